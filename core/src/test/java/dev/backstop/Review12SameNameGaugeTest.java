package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backstop.testing.Harness;
import dev.backstop.testing.InRequest;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Review 12: two Backstops with the same name in one registry. A filter names its Backstop after its context path,
 * so two versions of one application at the same path share the name: Tomcat's parallel deployment
 * ({@code app##1}, {@code app##2}), a blue/green swap in one JVM, or two filters of one application. Micrometer
 * keeps the first gauge of a name and tags; the second Backstop's rows point at that same meter id. When the old
 * version stops, {@code Meters.close} ({@code gauge.register(List.of(), true)}) removes the rows by id, that is the
 * gauge the NEW version relies on: from then on {@code backstop.tasks.active} for that application is gone for
 * good (not 0: no series), and the new version never registers it again.
 */
class Review12SameNameGaugeTest {

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
                assertThat(harness.registry().find("backstop.tasks.active")
                        .tags("backstop", "/", "kind", "scoped").gauge())
                        .as("the new version's backstop.tasks.active gauge after the old version stopped").isNotNull();
                assertThat(harness.gauge("backstop.tasks.active", "backstop", "/", "kind", "scoped"))
                        .isEqualTo(1.0);
            } finally {
                release.countDown();
                group[0].close();
            }
            return null;
        });
    }
}
