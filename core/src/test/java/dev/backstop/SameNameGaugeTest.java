package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backstop.testing.Harness;
import dev.backstop.testing.InRequest;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two Backstops of the same name in one registry (two versions of one application at one context path): each has
 * gauges of its own, the second under the next free name, and stopping the old version leaves the new version's
 * {@code backstop.tasks.active} in place.
 */
class SameNameGaugeTest {

    @RegisterExtension
    final Harness harness = new Harness();

    @Test
    void stoppingTheOldVersionLeavesTheNewVersionsGaugeInPlace() throws Throwable {
        InRequest oldVersion = harness.inRequest();
        oldVersion.run(request -> null); // initialised, gauge registered for "/"
        InRequest newVersion = harness.inRequest();
        newVersion.run(request -> null); // same name "/": "gauge name taken" is logged

        oldVersion.close(); // the old version is undeployed

        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        harness.closeAfter(release::countDown);
        ChildTasks[] group = new ChildTasks[1];
        newVersion.run(request -> {
            group[0] = ChildTasks.builder(request).name("held").open();
            group[0].go("work", () -> {
                running.countDown();
                release.await();
            });
            assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
            try {
                // The new version registered after the old one held "/", so it reports under the next free name;
                // the old version's stop removed only its own gauge.
                assertThat(harness.registry().find("backstop.tasks.active")
                        .tags("backstop", "/#2", "kind", "scoped").gauge())
                        .as("the new version's backstop.tasks.active gauge after the old version stopped").isNotNull();
                assertThat(harness.gauge("backstop.tasks.active", "backstop", "/#2", "kind", "scoped"))
                        .isEqualTo(1.0);
                assertThat(harness.registry().find("backstop.tasks.active").tag("backstop", "/").gauges())
                        .as("nothing left of the old version").isEmpty();
            } finally {
                release.countDown();
                group[0].close();
            }
            return null;
        });
    }
}
