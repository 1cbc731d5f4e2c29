package dev.backstop.redeploy;

import dev.backstop.Backstop;
import dev.backstop.redeploy.app.Hello;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * Exploded web applications built at test time, laid out as a real deployment: {@code WEB-INF/lib/backstop-core.jar}
 * zipped from the compiled main classes, the application's classes ({@link dev.backstop.redeploy.app}) copied into
 * {@code WEB-INF/classes}, and a {@code WEB-INF/web.xml}. Micrometer, SLF4J and the servlet API are not there: the
 * server provides them.
 */
public final class WebApps {

    private static final String APP_PACKAGE = Hello.class.getPackageName().replace('.', '/');

    private WebApps() {
    }

    /** Creates {@code root/name} holding a web application whose deployment descriptor has {@code webXmlBody}. */
    public static Path create(Path root, String name, String webXmlBody) {
        try {
            Path dir = Files.createDirectories(root.resolve(name));
            Path webInf = Files.createDirectories(dir.resolve("WEB-INF"));
            Files.writeString(webInf.resolve("web.xml"), webXml(webXmlBody), StandardCharsets.UTF_8);
            backstopJar(Files.createDirectories(webInf.resolve("lib")).resolve("backstop-core.jar"));
            copyTree(location(Hello.class).resolve(APP_PACKAGE), webInf.resolve("classes").resolve(APP_PACKAGE));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String webXml(String body) {
        return """
                <?xml version="1.0" encoding="UTF-8"?>
                <web-app xmlns="https://jakarta.ee/xml/ns/jakartaee"
                         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                         xsi:schemaLocation="https://jakarta.ee/xml/ns/jakartaee https://jakarta.ee/xml/ns/jakartaee/web-app_6_0.xsd"
                         version="6.0" metadata-complete="true">
                """ + body + "</web-app>\n";
    }

    /** backstop-core as the build made it: {@code target/classes} zipped, or the jar itself when tests run on one. */
    private static void backstopJar(Path jar) throws IOException {
        Path main = location(Backstop.class);
        if (Files.isRegularFile(main)) {
            Files.copy(main, jar);
            return;
        }
        if (!Files.exists(main.resolve("dev/backstop/Backstop.class"))) {
            throw new IllegalStateException("no compiled backstop-core classes in " + main);
        }
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream zip = new JarOutputStream(out);
                Stream<Path> files = Files.walk(main)) {
            for (Path file : files.sorted().toList()) {
                String entry = main.relativize(file).toString().replace('\\', '/');
                if (entry.isEmpty()) {
                    continue;
                }
                if (Files.isDirectory(file)) {
                    zip.putNextEntry(new JarEntry(entry + "/"));
                } else {
                    zip.putNextEntry(new JarEntry(entry));
                    Files.copy(file, zip);
                }
                zip.closeEntry();
            }
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(from)) {
            files = walk.sorted().toList();
        }
        for (Path file : files) {
            Path target = to.resolve(from.relativize(file).toString());
            if (Files.isDirectory(file)) {
                Files.createDirectories(target);
            } else {
                Files.copy(file, target);
            }
        }
    }

    /** The class-path entry (a directory or a jar) that {@code type} was loaded from. */
    private static Path location(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
