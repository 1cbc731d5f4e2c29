package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import dev.backstop.testing.Harness;
import dev.backstop.testing.TestServer;
import io.restassured.path.json.JsonPath;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * Logs a fleet can index: every line also carries its fields as SLF4J key-value pairs, which logback's
 * {@link JsonEncoder} (and the JSON encoders of log shippers) writes as fields, so a log aggregator can search
 * {@code errorId}, {@code source} or {@code path} without parsing the text.
 */
class StructuredLogTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private final ByteArrayOutputStream json = new ByteArrayOutputStream();
    private OutputStreamAppender<ILoggingEvent> appender;
    private Logger logger;

    @BeforeEach
    void attachJsonAppender() {
        logger = (Logger) LoggerFactory.getLogger("dev.backstop");
        LoggerContext context = logger.getLoggerContext();
        JsonEncoder encoder = new JsonEncoder();
        encoder.setContext(context);
        encoder.start();
        appender = new OutputStreamAppender<>();
        appender.setName("json-test");
        appender.setContext(context);
        appender.setEncoder(encoder);
        appender.setOutputStream(json);
        appender.start();
        logger.addAppender(appender);
    }

    @AfterEach
    void detach() {
        logger.detachAppender(appender);
        appender.stop();
    }

    /** The JSON events written so far, one per line. */
    private List<JsonPath> events() {
        return json.toString(StandardCharsets.UTF_8).lines().filter(line -> !line.isBlank()).map(JsonPath::from)
                .toList();
    }

    /** The key-value pairs of an event ({@code kvpList} is a list of one-entry objects). */
    private static Map<String, Object> pairs(JsonPath event) {
        Map<String, Object> pairs = new HashMap<>();
        List<Map<String, Object>> list = event.getList("kvpList");
        if (list != null) {
            list.forEach(pairs::putAll);
        }
        return pairs;
    }

    @Test
    void aPanicLineCarriesItsFieldsAsKeyValuePairs() throws Exception {
        TestServer server = harness.jetty()
                .route("/orders/*", (request, response) -> {
                    throw new IllegalStateException("no stock");
                })
                .start();

        String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(server.uri("/orders/42?secret=x")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        String errorId = JsonPath.from(body).getString("errorId");

        JsonPath panic = events().stream().filter(event -> "ERROR".equals(event.getString("level"))).findFirst()
                .orElseThrow();
        assertThat(pairs(panic)).containsEntry("event", "panic").containsEntry("errorId", errorId)
                .containsEntry("source", "handler").containsEntry("method", "GET").containsEntry("path", "/orders/42")
                .containsEntry("exception", IllegalStateException.class.getName())
                .containsEntry("message", "no stock");
        assertThat(panic.getString("message")).startsWith("panic errorId=" + errorId + " source=handler");
        assertThat(json.toString(StandardCharsets.UTF_8)).doesNotContain("secret=x");
    }

    @Test
    void aLeakLineCarriesItsGroupAndWhereItWasOpened() throws Exception {
        TestServer server = harness.jetty()
                .route("/leak", (request, response) -> ChildTasks.builder(request).name("forgotten").open())
                .start();

        HttpClient.newHttpClient().send(HttpRequest.newBuilder(server.uri("/leak")).build(),
                HttpResponse.BodyHandlers.ofString());

        JsonPath leak = events().stream().filter(event -> "WARN".equals(event.getString("level"))).findFirst()
                .orElseThrow();
        assertThat(pairs(leak)).containsEntry("event", "group_leaked").containsEntry("group", "forgotten")
                .containsEntry("path", "/leak").containsEntry("method", "GET").containsKey("openedAt");
    }
}
