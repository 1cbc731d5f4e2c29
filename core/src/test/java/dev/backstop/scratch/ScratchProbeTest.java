package dev.backstop.scratch;

import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.ServletServer;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.ServletResponseWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.extension.RegisterExtension;

class ScratchProbeTest {
    @RegisterExtension
    final Harness harness = new Harness();

    static Object inner(ServletResponse r) {
        while (r instanceof ServletResponseWrapper w) r = w.getResponse();
        return r;
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void sendErrorThenThrow(Container container) throws Exception {
        jakarta.servlet.Filter probe = new jakarta.servlet.Filter() {
            public void doFilter(jakarta.servlet.ServletRequest rq, jakarta.servlet.ServletResponse rs, jakarta.servlet.FilterChain ch) throws java.io.IOException, jakarta.servlet.ServletException {
                try { ch.doFilter(rq, rs); } catch (Exception e) {
                    HttpServletResponse resp = (HttpServletResponse) rs;
                    Object in = inner(rs);
                    System.out.println("PROBE " + container + " inner=" + in.getClass().getName() + " isCommitted=" + resp.isCommitted() + " status=" + resp.getStatus());
                    try {
                        if (container == Container.JETTY) {
                            Method gc = in.getClass().getMethod("getServletChannel");
                            Object ch2 = gc.invoke(in);
                            System.out.println("PROBE jetty channel.isCommitted=" + ch2.getClass().getMethod("isCommitted").invoke(ch2) + " isSendError=" + ch2.getClass().getMethod("isSendError").invoke(ch2));
                            Object state = ch2.getClass().getMethod("getServletRequestState").invoke(ch2);
                            Field f = state.getClass().getDeclaredField("_sendError"); f.setAccessible(true); f.set(state, false);
                            System.out.println("PROBE after cancel isCommitted=" + resp.isCommitted());
                            resp.reset(); resp.resetBuffer();
                        } else {
                            Field f = in.getClass().getDeclaredField("response"); f.setAccessible(true);
                            Object cr = f.get(in);
                            System.out.println("PROBE tomcat coyote committed=" + cr.getClass().getMethod("isCommitted").invoke(cr) + " isError=" + cr.getClass().getMethod("isError").invoke(cr) + " suspended=" + cr.getClass().getMethod("isSuspended").invoke(cr));
                            cr.getClass().getMethod("setSuspended", boolean.class).invoke(cr, false);
                            cr.getClass().getMethod("resetError").invoke(cr);
                            System.out.println("PROBE appCommitted=" + cr.getClass().getMethod("isAppCommitted").invoke(cr) + " isCommitted=" + cr.getClass().getMethod("isCommitted").invoke(cr) + " suspended=" + cr.getClass().getMethod("isSuspended").invoke(cr));
                            cr.getClass().getMethod("setAppCommitted", boolean.class).invoke(cr, false);
                            System.out.println("PROBE after cancel isCommitted=" + resp.isCommitted());
                            resp.reset();
                        }
                        resp.setStatus(500); resp.setContentType("application/problem+json"); resp.getOutputStream().write("{\"ours\":1}".getBytes());
                    } catch (Throwable t) { System.out.println("PROBE failed " + t); t.printStackTrace(System.out); }
                }
            }
        };
        ServletServer server = harness.closeAfter(container == Container.JETTY ? new dev.backstop.testing.TestServer(probe) : new dev.backstop.testing.TomcatServer(probe));
        server.route("/x", (rq, rs) -> { rs.sendError(404); throw new IllegalStateException("after sendError"); }).start();
        RawHttp.Exchange ex = RawHttp.get(server.port(), "/x");
        System.out.println("PROBE " + container + " client: " + ex.text().replace("\r\n", " | ") + " ending=" + ex.ending());
    }
}
