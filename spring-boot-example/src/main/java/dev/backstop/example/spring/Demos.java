package dev.backstop.example.spring;

import dev.backstop.ChildTasks;
import dev.backstop.TaskHandle;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.StreamingResponseBody;

/** The tour: every kind of failure Backstop answers, reports and counts, one endpoint each. */
@RestController
public class Demos {

    private final Jobs jobs;

    public Demos(Jobs jobs) {
        this.jobs = jobs;
    }

    @GetMapping(value = "/", produces = MediaType.TEXT_PLAIN_VALUE)
    public String index() {
        return String.join("\n",
                "Backstop on Spring Boot. Try:",
                "  /panic                 a controller throws: 500 problem+json with an errorId",
                "  /callable              a Callable fails on Boot's task executor: the same 500",
                "  /truncated             a streamed body fails after 64 KiB: the connection is aborted",
                "  /fanout?fail=1         three child tasks, one panics: the 500 carries the child's errorId",
                "  /fanout                three child tasks that succeed",
                "  /async                 a failing @Async method: reported with source=executor",
                "  /actuator/prometheus   backstop_panics_total and friends",
                "(a @Scheduled cache refresh also fails once, half a second after start)",
                "");
    }

    @GetMapping("/panic")
    public String panic() {
        throw new IllegalStateException("the example handler failed on purpose");
    }

    @GetMapping("/callable")
    public Callable<String> callable() {
        return () -> {
            throw new IllegalStateException("the example Callable failed on purpose");
        };
    }

    @GetMapping("/truncated")
    public StreamingResponseBody truncated() {
        return out -> {
            writeKilobytes(out, 64);
            throw new IllegalStateException("the example stream failed after 64 KiB");
        };
    }

    @GetMapping(value = "/fanout", produces = MediaType.TEXT_PLAIN_VALUE)
    public String fanout(HttpServletRequest request, @RequestParam(name = "fail", defaultValue = "0") int fail) {
        try (ChildTasks tasks = ChildTasks.builder(request).name("fanout").open()) {
            List<TaskHandle<String>> parts = List.of("inventory", "pricing", "reviews").stream()
                    .map(part -> tasks.submit(part, () -> lookUp(part, fail)))
                    .toList();
            tasks.await();
            return parts.stream().map(TaskHandle::get).reduce((a, b) -> a + ", " + b).orElse("") + "\n";
        }
    }

    @GetMapping(value = "/async", produces = MediaType.TEXT_PLAIN_VALUE)
    public String async() {
        jobs.recalculate();
        return "submitted: the @Async method fails on Boot's task executor; see the log and /actuator/prometheus\n";
    }

    private static String lookUp(String part, int fail) {
        if (fail > 0 && part.equals("pricing")) {
            throw new IllegalStateException("the " + part + " child task failed on purpose");
        }
        return part + " ok";
    }

    private static void writeKilobytes(OutputStream out, int kilobytes) throws IOException {
        byte[] line = new byte[1024];
        Arrays.fill(line, (byte) '.');
        line[line.length - 1] = '\n';
        for (int i = 0; i < kilobytes; i++) {
            out.write(line);
        }
        out.flush();
    }
}
