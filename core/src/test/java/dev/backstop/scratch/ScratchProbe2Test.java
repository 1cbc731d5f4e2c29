package dev.backstop.scratch;

import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.ServletServer;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.ServletResponseWrapper;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpUpgradeHandler;
import jakarta.servlet.http.WebConnection;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.extension.RegisterExtension;

class ScratchProbe2Test {
    @RegisterExtension
    final Harness harness = new Harness();

    public static class Up implements HttpUpgradeHandler {
        public void init(WebConnection c) { System.out.println("PROBE upgrade init"); }
        public void destroy() { System.out.println("PROBE upgrade destroy"); }
    }

    static Object inner(ServletResponse r) {
        while (r instanceof ServletResponseWrapper w) r = w.getResponse();
        return r;
    }

    static void closeNow(Object in, Throwable cause) throws Exception {
        Field f = in.getClass().getDeclaredField("response"); f.setAccessible(true);
        Object cr = f.get(in);
        Object coyote = cr.getClass().getMethod("getCoyoteResponse").invoke(cr);
        Method action = null;
        for (Method m : coyote.getClass().getMethods()) if (m.getName().equals("action")) action = m;
        Object closeNow = action.getParameterTypes()[0].getField("CLOSE_NOW").get(null);
        action.invoke(coyote, closeNow, cause);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void committedThenAbort(Container container) throws Exception {
        jakarta.servlet.Filter probe = new jakarta.servlet.Filter() {
            public void doFilter(jakarta.servlet.ServletRequest rq, jakarta.servlet.ServletResponse rs, jakarta.servlet.FilterChain ch) throws java.io.IOException, jakarta.servlet.ServletException {
                try { ch.doFilter(rq, rs); } catch (Exception e) {
                    HttpServletResponse resp = (HttpServletResponse) rs;
                    System.out.println("PROBE " + container + " status=" + resp.getStatus() + " committed=" + resp.isCommitted() + " e=" + e);
                    try {
                        if (container == Container.JETTY) { resp.sendError(-1); }
                        else closeNow(inner(rs), e);
                    } catch (Throwable t) { System.out.println("PROBE failed " + t); }
                }
            }
        };
        ServletServer server = harness.closeAfter(container == Container.JETTY ? new dev.backstop.testing.TestServer(probe) : new dev.backstop.testing.TomcatServer(probe));
        server.route("/chunk", (rq, rs) -> { rs.getOutputStream().write(new byte[8192]); rs.flushBuffer(); throw new IllegalStateException("midway"); });
        server.route("/error", (rq, rs) -> { rs.setContentType("application/json"); rs.getWriter().write("{\"error\":\"boot\"}"); });
        server.route("/upgrade", (rq, rs) -> { rq.upgrade(Up.class); System.out.println("PROBE after upgrade status=" + rs.getStatus() + " committed=" + rs.isCommitted()); throw new IllegalStateException("after upgrade"); });
        if (server instanceof dev.backstop.testing.TomcatServer t) {
            org.apache.tomcat.util.descriptor.web.ErrorPage page = new org.apache.tomcat.util.descriptor.web.ErrorPage();
            page.setLocation("/error"); t.context().addErrorPage(page);
        }
        server.start();
        RawHttp.Exchange ex = RawHttp.get(server.port(), "/chunk", true);
        System.out.println("PROBE " + container + " chunk client: len=" + ex.body().length() + " tail=" + ex.body().substring(Math.max(0, ex.body().length() - 40)).replace("\r\n", "|") + " ending=" + ex.ending());
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("GET /upgrade HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream(); StringBuilder got = new StringBuilder();
            long t0 = System.nanoTime();
            try { int n; byte[] b = new byte[4096]; while ((n = in.read(b)) >= 0) got.append(new String(b, 0, n, StandardCharsets.ISO_8859_1)); got.append("<EOF>"); }
            catch (Exception e) { got.append("<" + e + ">"); }
            System.out.println("PROBE " + container + " upgrade client after " + (System.nanoTime() - t0) / 1_000_000 + "ms: " + got.toString().replace("\r\n", "|"));
        }
    }
}
