package dev.backstop.internal.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class NegotiationTest {

    @ParameterizedTest(name = "Accept: {0} -> json={1}")
    @CsvSource(delimiter = '|', nullValues = "NULL", value = {
        "NULL | true",
        "'' | true",
        "*/* | true",
        "application/json | true",
        "application/problem+json | true",
        "application/* | true",
        "text/plain | false",
        "text/html | false",
        "text/* | false",
        "'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' | true",
        "'text/plain, application/json;q=0.5' | false",
        "'application/json;q=0, application/problem+json;q=0, */*' | false",
        "'text/plain;q=0.2, application/json;q=0.3' | true",
        "'application/problem+json;q=0, */*' | false",
        "'application/problem+json;q=0, application/json' | false",
        "image/png | false",
        "';;;,,/,garbage' | false",
        "'application/json;q=abc' | false",
    })
    void choosesJsonOrText(String accept, boolean json) {
        assertThat(Negotiation.prefersJson(accept)).isEqualTo(json);
    }
}
