package io.berth.e2e;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** {@code --name value} command-line options; a name given twice keeps the last value. */
final class Args {
    private final Map<String, String> values = new HashMap<>();

    Args(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || i + 1 == args.length) {
                throw new IllegalArgumentException("expected --name value pairs but got '" + a + "'");
            }
            values.put(a.substring(2), args[++i]);
        }
    }

    String required(String name) {
        String v = values.get(name);
        if (v == null) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return v;
    }

    String string(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    int integer(String name, int fallback) {
        String v = values.get(name);
        return v == null ? fallback : Integer.parseInt(v.trim());
    }

    double decimal(String name, double fallback) {
        String v = values.get(name);
        return v == null ? fallback : Double.parseDouble(v.trim());
    }

    /** @return the values of a list option, separated by commas or spaces */
    List<String> list(String name, String fallback) {
        List<String> out = new ArrayList<>();
        for (String s : string(name, fallback).split("[,\\s]+")) {
            if (!s.isEmpty()) {
                out.add(s);
            }
        }
        return out;
    }
}
