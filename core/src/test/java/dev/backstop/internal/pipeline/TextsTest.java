package dev.backstop.internal.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TextsTest {

    @Test
    void escapesControlCharactersAndBackslash() {
        assertThat(Texts.escape("a\r\nb\tc\u0000d\u001be\u007ff\u0085g\u2028h\\i", 100))
                .isEqualTo("a\\r\\nb\\tc\\u0000d\\u001be\\u007ff\\u0085g\\u2028h\\\\i");
    }

    @Test
    void leavesPlainTextAndNonAsciiAlone() {
        String text = "Ünïcödé path /日本/ok";
        assertThat(Texts.escape(text, 100)).isSameAs(text);
    }

    @Test
    void truncatesAndSaysHowMuchWasCut() {
        assertThat(Texts.escape("x".repeat(50), 10)).isEqualTo("xxxxxxxxxx...(40 more chars)");
    }

    @Test
    void escapesTheQuoteSoAQuotedFieldCannotBeClosedEarly() {
        assertThat(Texts.escape("x\" errorId=forged source=\"y", 100))
                .isEqualTo("x\\\" errorId=forged source=\\\"y");
    }

    @Test
    void neverCutsASurrogatePairAndTakesANegativeLimitAsZero() {
        assertThat(Texts.escape("a\ud83d\ude00b", 2)).isEqualTo("a...(3 more chars)");
        assertThat(Texts.escape("abc", -1)).isEqualTo("...(3 more chars)");
    }

    @Test
    void stackTraceSurvivesCyclesAndBrokenMessages() {
        RuntimeException first = new RuntimeException("first");
        RuntimeException second = new RuntimeException("second", first) {
            private static final long serialVersionUID = 1L;

            @Override
            public String getMessage() {
                throw new IllegalStateException("broken");
            }
        };
        first.initCause(second);

        String trace = Texts.stackTrace(first);

        assertThat(trace).startsWith("java.lang.RuntimeException: first\n")
                .contains("Caused by: dev.backstop.internal.pipeline.TextsTest$1: <getMessage() threw java.lang.IllegalStateException>")
                .contains("[circular reference: java.lang.RuntimeException]");
    }
}
