package io.berth.transport;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Whether a domain is an ICANN public suffix ({@code com}, {@code co.uk}, any {@code *.ck} but
 * {@code www.ck}), from the list the JDK ships for its own wildcard check
 * ({@code $JAVA_HOME/lib/security/public_suffix_list.dat}: a zip with one entry per top-level domain,
 * one rule a line after a byte naming its section: 0 for ICANN, 1 for private domains). Read lazily, one top-level domain at a time;
 * without the file only single labels count as public suffixes (the JDK then skips its check).
 *
 * <p>Thread-safe.
 */
final class PublicSuffixes {
    private static final Path FILE = Path.of(System.getProperty("java.home"), "lib", "security",
            "public_suffix_list.dat");
    /** Per top-level domain: its ICANN rules, e.g. {@code co.uk}, {@code *.ck}, {@code !www.ck}. */
    private static final ConcurrentHashMap<String, Set<String>> RULES = new ConcurrentHashMap<>();

    private PublicSuffixes() {
    }

    /**
     * @param domain a lower-case DNS name without a trailing dot
     * @return whether names are registered directly under it
     */
    static boolean isPublicSuffix(String domain) {
        String d = domain.toLowerCase(Locale.ROOT);
        int lastDot = d.lastIndexOf('.');
        if (lastDot < 0) {
            return true;
        }
        Set<String> rules = RULES.computeIfAbsent(d.substring(lastDot + 1), PublicSuffixes::load);
        if (rules.contains(d)) {
            return true;
        }
        int firstDot = d.indexOf('.');
        return rules.contains("*" + d.substring(firstDot)) && !rules.contains("!" + d);
    }

    private static Set<String> load(String tld) {
        Set<String> rules = new HashSet<>();
        if (!Files.isReadable(FILE)) {
            return rules;
        }
        try (ZipFile zip = new ZipFile(FILE.toFile())) {
            ZipEntry entry = zip.getEntry(tld);
            if (entry == null) {
                return rules;
            }
            try (InputStream in = zip.getInputStream(entry)) {
                for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                    if (line.length() > 1 && line.charAt(0) == '\0') { // ICANN; private domains are left out
                        rules.add(line.substring(1).trim().toLowerCase(Locale.ROOT));
                    }
                }
            }
        } catch (IOException e) {
            // an unreadable list: as without one
        }
        return rules;
    }
}
