package dev.backstop.internal.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The stand-in the pipeline logs when the backend cannot render the user's throwable. */
class SafeThrowableTest {

    private static List<Throwable> chain(Throwable head) {
        List<Throwable> links = new ArrayList<>();
        for (Throwable t = head; t != null && links.size() < 1_000; t = t.getCause()) {
            links.add(t);
        }
        return links;
    }

    @Test
    void copiesAChainWithCausesAndStopsAtTheBound() {
        RuntimeException deep = new RuntimeException("level 0");
        for (int level = 1; level < 10_000; level++) {
            deep = new RuntimeException("level " + level, deep);
        }

        SafeThrowable copy = SafeThrowable.copyOf(deep);

        List<Throwable> links = chain(copy);
        assertThat(links).hasSize(Texts.MAX_CAUSES);
        assertThat(links.get(0)).hasMessage("java.lang.RuntimeException: level 9999");
        assertThat(links.get(1)).hasMessage("java.lang.RuntimeException: level 9998");
        assertThat(links.get(0).getStackTrace()).isEqualTo(deep.getStackTrace());
    }

    @Test
    void endsACycleWithAMarkerAndEscapesMessages() {
        RuntimeException a = new RuntimeException("a\r\nforged");
        RuntimeException b = new RuntimeException("b", a);
        a.initCause(b);

        List<Throwable> links = chain(SafeThrowable.copyOf(a));

        assertThat(links).extracting(Throwable::getMessage).containsExactly(
                "java.lang.RuntimeException: a\\r\\nforged",
                "java.lang.RuntimeException: b",
                "[circular reference: java.lang.RuntimeException]");
        assertThat(links.get(0).toString()).isEqualTo("java.lang.RuntimeException: a\\r\\nforged");
    }

    @Test
    void survivesAThrowingGetMessageAndAMissingStack() {
        RuntimeException broken = new RuntimeException("unused", null, false, false) {
            private static final long serialVersionUID = 1L;

            @Override
            public String getMessage() {
                throw new IllegalStateException("broken");
            }
        };

        SafeThrowable copy = SafeThrowable.copyOf(broken);

        assertThat(copy.getMessage()).endsWith(": <getMessage() threw java.lang.IllegalStateException>");
        assertThat(copy.getStackTrace()).isEmpty();
        assertThat(copy.getCause()).isNull();
    }
}
