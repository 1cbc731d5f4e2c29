package dev.backstop.spring;

import dev.backstop.Backstop;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.aop.framework.Advised;
import org.springframework.aop.framework.ProxyFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.scheduling.annotation.AsyncConfigurer;

/**
 * Makes every {@link AsyncConfigurer} bean report through Backstop (see {@link ReportingAsyncConfigurer}) while it
 * stays the bean it was: an application's configurer is often its {@code @Configuration} class, whose {@code @Bean}
 * methods Spring calls on the bean, and which other beans may inject by its own type. So the bean is kept behind a
 * class-based proxy (or, when it is already a Spring AOP proxy, given one more advice) that answers only
 * {@code getAsyncExecutor()} and {@code getAsyncUncaughtExceptionHandler()} differently. A configurer whose class
 * cannot be subclassed (a final class, a record) is replaced by a plain {@code ReportingAsyncConfigurer}, and
 * can then be injected only as an {@code AsyncConfigurer}; that is said at DEBUG. A configurer with a final method is
 * left alone, with a WARN: no proxy can run a final method on the bean. Thread-safe.
 */
final class AsyncConfigurerPostProcessor implements BeanPostProcessor {

    private static final Logger LOG = LoggerFactory.getLogger(AsyncConfigurerPostProcessor.class);

    private final ObjectProvider<Backstop> backstop;

    AsyncConfigurerPostProcessor(ObjectProvider<Backstop> backstop) {
        this.backstop = backstop;
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) {
        if (!(bean instanceof AsyncConfigurer configurer) || bean instanceof ReportingAsyncConfigurer
                || (bean instanceof Advised advised && reports(advised))) {
            return bean;
        }
        Reporting reporting = new Reporting(new ReportingAsyncConfigurer(configurer, backstop));
        if (bean instanceof Advised advised && !advised.isFrozen()) {
            advised.addAdvice(0, reporting);
            return bean;
        }
        Method finalMethod = finalMethod(bean.getClass());
        if (finalMethod != null) {
            // A class-based proxy would run the final method on itself, whose fields were never set: the bean would
            // break. Replacing it would break its @Bean methods and injection by its type. So it is left alone.
            LOG.warn("AsyncConfigurer bean '{}' ({}) has a final method ({}), so Backstop cannot report the failures of "
                    + "its void @Async methods: they reach only its own AsyncUncaughtExceptionHandler. Make its methods "
                    + "non-final, or call Backstop.report(failure) in that handler", beanName, bean.getClass().getName(),
                    finalMethod.getName());
            return bean;
        }
        try {
            ProxyFactory factory = new ProxyFactory(bean);
            factory.setProxyTargetClass(true);
            factory.addAdvice(reporting);
            return factory.getProxy(bean.getClass().getClassLoader());
        } catch (RuntimeException | LinkageError cannotSubclass) {
            LOG.debug("AsyncConfigurer bean '{}' ({}) cannot be proxied by its class ({}); it is replaced by a "
                    + "reporting AsyncConfigurer", beanName, bean.getClass().getName(), cannotSubclass.toString());
            return reporting.configurer;
        }
    }

    /** @return a non-private, non-static final method the application's class declares, or null */
    private static Method finalMethod(Class<?> type) {
        for (Class<?> current = type; current != null && current != Object.class; current = current.getSuperclass()) {
            for (Method method : current.getDeclaredMethods()) {
                int modifiers = method.getModifiers();
                if (Modifier.isFinal(modifiers) && !Modifier.isPrivate(modifiers) && !Modifier.isStatic(modifiers)
                        && !method.isSynthetic()) {
                    return method;
                }
            }
        }
        return null;
    }

    private static boolean reports(Advised advised) {
        for (var advisor : advised.getAdvisors()) {
            if (advisor.getAdvice() instanceof Reporting) {
                return true;
            }
        }
        return false;
    }

    /** Answers the two methods Spring asks an {@code AsyncConfigurer}; everything else goes to the bean. */
    private static final class Reporting implements MethodInterceptor {
        final ReportingAsyncConfigurer configurer;

        Reporting(ReportingAsyncConfigurer configurer) {
            this.configurer = configurer;
        }

        @Override
        public Object invoke(MethodInvocation invocation) throws Throwable {
            if (invocation.getMethod().getParameterCount() == 0) {
                switch (invocation.getMethod().getName()) {
                    case "getAsyncExecutor":
                        return configurer.getAsyncExecutor();
                    case "getAsyncUncaughtExceptionHandler":
                        return configurer.getAsyncUncaughtExceptionHandler();
                    default:
                        break;
                }
            }
            return invocation.proceed();
        }
    }
}
