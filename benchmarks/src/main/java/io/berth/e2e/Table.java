package io.berth.e2e;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A table printed twice: as aligned text for the terminal and as Markdown for the results file.
 * Columns are right-aligned (numbers) except the first (names) and, in a table with notes, the last.
 */
final class Table {
    private final boolean notes;
    private final List<String> headers;
    private final List<List<String>> rows = new ArrayList<>();

    /**
     * @param notes whether the last column holds text (left-aligned) rather than numbers
     * @param headers the columns' headers
     */
    Table(boolean notes, String... headers) {
        this.notes = notes;
        this.headers = List.of(headers);
    }

    /** Adds a row: strings as they are, numbers formatted with {@link #number}. */
    void add(Object... cells) {
        if (cells.length != headers.size()) {
            throw new IllegalArgumentException(cells.length + " cells for " + headers.size() + " columns");
        }
        List<String> row = new ArrayList<>();
        for (Object c : cells) {
            row.add(c instanceof String ? (String) c : number(c));
        }
        rows.add(row);
    }

    /** @return a number as shown in tables: integers as they are, others to 0, 1 or 2 decimals by size */
    static String number(Object value) {
        if (value == null) {
            return "–";
        }
        if (value instanceof Long || value instanceof Integer) {
            return value.toString();
        }
        double d = ((Number) value).doubleValue();
        if (Double.isNaN(d)) {
            return "–";
        }
        return String.format(Locale.ROOT, Math.abs(d) >= 100 ? "%.0f" : Math.abs(d) >= 10 ? "%.1f" : "%.2f", d);
    }

    private boolean left(int column) {
        return column == 0 || notes && column == headers.size() - 1;
    }

    String text() {
        int[] width = new int[headers.size()];
        for (int i = 0; i < width.length; i++) {
            width[i] = headers.get(i).length();
            for (List<String> r : rows) {
                width[i] = Math.max(width[i], r.get(i).length());
            }
        }
        StringBuilder sb = new StringBuilder();
        List<List<String>> all = new ArrayList<>();
        all.add(headers);
        all.addAll(rows);
        for (List<String> r : all) {
            for (int i = 0; i < width.length; i++) {
                String cell = r.get(i);
                char[] pad = new char[width[i] - cell.length()];
                Arrays.fill(pad, ' ');
                if (i == width.length - 1) {
                    sb.append(cell);
                } else if (left(i)) {
                    sb.append(cell).append(pad).append("  ");
                } else {
                    sb.append(pad).append(cell).append("  ");
                }
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    String markdown() {
        StringBuilder sb = new StringBuilder("|");
        StringBuilder rule = new StringBuilder("|");
        for (int i = 0; i < headers.size(); i++) {
            sb.append(' ').append(headers.get(i)).append(" |");
            rule.append(left(i) ? "---|" : "--:|");
        }
        sb.append('\n').append(rule).append('\n');
        for (List<String> r : rows) {
            sb.append('|');
            for (String cell : r) {
                sb.append(' ').append(cell.replace("|", "\\|")).append(" |");
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
