package dev.backstop.redeploy;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.awaitility.core.ConditionTimeoutException;

/**
 * What undeploying must leave behind: nothing. Every class loader of an undeployed application becomes garbage,
 * and no thread started during the test outlives it, other than the server's own.
 */
public final class Leaks {

    /** How long the garbage collector is given; a loader that nothing holds goes at the first full collection. */
    public static final Duration WITHIN = Duration.ofSeconds(30);

    private Leaks() {
    }

    /** The threads alive now; take it before the server starts. */
    public static Set<Thread> threadsNow() {
        return Set.copyOf(Thread.getAllStackTraces().keySet());
    }

    /**
     * Runs {@code System.gc()} until every loader of {@code undeployed} is collected and no thread that was not in
     * {@code before} is alive (the server's own and the JDK's virtual-thread carriers aside), failing after
     * {@link #WITHIN} with the loaders and threads still there, and {@code diagnosis} (what holds them, if known).
     */
    public static void assertNothingLeftOf(Collection<WebAppServer.Deployment> undeployed, Set<Thread> before,
            Supplier<String> diagnosis) {
        AtomicReference<String> left = new AtomicReference<>();
        try {
            await().atMost(WITHIN)
                    .pollInSameThread()
                    .pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> {
                        System.gc();
                        String now = whatIsLeft(undeployed, before);
                        left.set(now);
                        return now.isEmpty();
                    });
        } catch (ConditionTimeoutException timedOut) {
            String why = diagnosis.get();
            throw new AssertionError("after " + WITHIN.toSeconds() + " s of System.gc(), undeploying left "
                    + left.get() + (why.isEmpty() ? "" : "; " + why));
        }
    }

    private static String whatIsLeft(Collection<WebAppServer.Deployment> undeployed, Set<Thread> before) {
        List<String> loaders = undeployed.stream().filter(d -> !d.collected()).map(WebAppServer.Deployment::label)
                .toList();
        List<String> threads = Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .filter(t -> !before.contains(t) && t != Thread.currentThread())
                .filter(t -> !WebAppServer.owns(t) && !jdkVirtualThreadMachinery(t))
                .sorted(Comparator.comparing(Thread::getName))
                .map(t -> "'" + t.getName() + "' (" + t.getState() + ")")
                .toList();
        StringBuilder text = new StringBuilder();
        if (!loaders.isEmpty()) {
            text.append(loaders.size()).append(" of ").append(undeployed.size())
                    .append(" web-app class loaders not collected: ").append(loaders);
        }
        if (!threads.isEmpty()) {
            text.append(text.length() == 0 ? "" : ", and ").append(threads.size())
                    .append(threads.size() == 1 ? " thread" : " threads")
                    .append(" started during the test still alive: ").append(threads);
        }
        return text.toString();
    }

    /**
     * The JDK's virtual-thread machinery, shared by the whole JVM and started on first need: the scheduler's carrier
     * threads (which idle out on their own) and its system threads ({@code VirtualThread-unparker},
     * {@code VirtualThread-unblocker} on JDK 24+, the I/O pollers). A virtual thread itself is never listed by
     * {@link Thread#getAllStackTraces()}.
     */
    private static boolean jdkVirtualThreadMachinery(Thread thread) {
        String type = thread.getClass().getName();
        String name = thread.getName();
        return type.equals("jdk.internal.misc.CarrierThread")
                || type.equals("jdk.internal.misc.InnocuousThread")
                        && (name.startsWith("VirtualThread-") || name.endsWith("-Poller"));
    }
}
