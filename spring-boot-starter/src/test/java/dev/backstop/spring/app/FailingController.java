package dev.backstop.spring.app;

import dev.backstop.spring.app.TestApplication.CallableFailure;
import dev.backstop.spring.app.TestApplication.CompletableFailure;
import dev.backstop.spring.app.TestApplication.DeferredFailure;
import dev.backstop.spring.app.TestApplication.HandlerPanic;
import dev.backstop.spring.app.TestApplication.StreamFailure;
import dev.backstop.spring.app.TestApplication.WriteFailure;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.request.async.DeferredResult;
import org.springframework.web.servlet.mvc.method.annotation.StreamingResponseBody;

/** Handlers that fail in every way Spring MVC lets a handler fail. */
@RestController
public class FailingController {

    /** More than any container buffers, so the status line and part of the body are on the wire. */
    public static final int STREAMED_BYTES = 64 * 1024;

    private final Jobs jobs;

    public FailingController(Jobs jobs) {
        this.jobs = jobs;
    }

    @GetMapping("/panic")
    public String panic() {
        throw new HandlerPanic("the handler failed on purpose");
    }

    @GetMapping("/callable")
    public Callable<String> callable() {
        return () -> {
            throw new CallableFailure("the Callable failed on purpose");
        };
    }

    @GetMapping("/deferred")
    public DeferredResult<String> deferred() {
        DeferredResult<String> result = new DeferredResult<>();
        CompletableFuture.runAsync(() -> result.setErrorResult(new DeferredFailure("the DeferredResult failed")));
        return result;
    }

    @GetMapping("/completable")
    public CompletableFuture<String> completable() {
        return CompletableFuture.supplyAsync(() -> {
            throw new CompletableFailure("the CompletableFuture failed on purpose");
        });
    }

    @GetMapping("/streaming")
    public StreamingResponseBody streaming() {
        return out -> {
            writeStream(out);
            throw new StreamFailure("the StreamingResponseBody failed after " + STREAMED_BYTES + " bytes");
        };
    }

    @GetMapping("/write")
    public void write(HttpServletResponse response) throws IOException {
        response.setContentType("text/plain");
        writeStream(response.getOutputStream());
        throw new WriteFailure("the handler failed after writing " + STREAMED_BYTES + " bytes");
    }

    @GetMapping("/teapot")
    public void teapot(HttpServletResponse response) throws IOException {
        response.sendError(418);
    }

    @GetMapping("/async-void")
    public String asyncVoid() {
        jobs.failVoid();
        return "submitted";
    }

    private static void writeStream(OutputStream out) throws IOException {
        byte[] line = new byte[1024];
        Arrays.fill(line, (byte) 'x');
        line[line.length - 1] = '\n';
        for (int i = 0; i < STREAMED_BYTES / line.length; i++) {
            out.write(line);
        }
        out.flush();
    }
}
