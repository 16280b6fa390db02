package io.daxfs.devdax;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Image-file chores shared by the opener and the command line: create, parse and print sizes. */
public final class ImageFiles {
    /** Image sizes must be whole pages so that the whole file can be mapped and punched. */
    public static final long SIZE_GRANULE = 4096;

    private static final Pattern SIZE = Pattern.compile("\\s*(\\d+)\\s*([A-Za-z]*)\\s*");
    private static final Map<String, Integer> BINARY_SHIFT = Map.ofEntries(
            Map.entry("", 0), Map.entry("b", 0),
            Map.entry("k", 10), Map.entry("kib", 10),
            Map.entry("m", 20), Map.entry("mib", 20),
            Map.entry("g", 30), Map.entry("gib", 30),
            Map.entry("t", 40), Map.entry("tib", 40),
            Map.entry("p", 50), Map.entry("pib", 50));

    private ImageFiles() {
    }

    /**
     * Creates {@code path} as a sparse file of {@code size} bytes (no blocks allocated: the
     * length is set with ftruncate). Refuses to touch an existing file
     * ({@link java.nio.file.FileAlreadyExistsException}). The file is created with mode 0600:
     * it will hold every byte of every file in the file system, whatever their own modes are.
     *
     * @throws IllegalArgumentException if size is not a positive multiple of 4096
     */
    public static void createSparse(Path path, long size) throws IOException {
        if (size <= 0 || size % SIZE_GRANULE != 0) {
            throw new IllegalArgumentException("image size must be a positive multiple of "
                    + SIZE_GRANULE + " bytes, not " + size);
        }
        Files.createFile(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        boolean done = false;
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength(size);
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(path); // we created it; leave nothing half-made behind
            }
        }
    }

    /**
     * Parses a byte count as typed on a command line: a whole number optionally followed by a
     * binary unit, case-insensitive, with optional blanks: {@code 4096}, {@code 512K},
     * {@code 64M}, {@code 64MiB}, {@code 1G}, {@code 2GiB}, {@code 1T}, {@code 100B}.
     * Units are powers of 1024. Decimal units ({@code MB}, {@code GB}...) are refused rather
     * than guessed, since tools disagree on whether they mean 10^6 or 2^20.
     *
     * @throws IllegalArgumentException with a message fit for the user on anything else
     */
    public static long parseSize(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("size is empty: expected e.g. 4096, 512K, 64M, 2GiB");
        }
        Matcher m = SIZE.matcher(text);
        if (!m.matches()) {
            String hint = text.matches("\\s*\\d+[.,]\\d+.*") ? " (fractions are not accepted: use a smaller unit, e.g. 1536M for 1.5G)"
                    : text.trim().startsWith("-") ? " (a size cannot be negative)" : "";
            throw new IllegalArgumentException("not a size: '" + text + "'" + hint
                    + "; expected a whole number with an optional unit K, M, G, T (or KiB, MiB, GiB, TiB)");
        }
        String unit = m.group(2).toLowerCase(Locale.ROOT);
        Integer shift = BINARY_SHIFT.get(unit);
        if (shift == null) {
            if (unit.length() == 2 && unit.endsWith("b") && BINARY_SHIFT.containsKey(unit.substring(0, 1))) {
                String u = unit.substring(0, 1).toUpperCase(Locale.ROOT);
                throw new IllegalArgumentException("ambiguous unit in '" + text + "': write " + m.group(1) + u
                        + " or " + m.group(1) + u + "iB for powers of 1024 (decimal units are not accepted)");
            }
            throw new IllegalArgumentException("unknown unit '" + m.group(2) + "' in '" + text
                    + "'; expected K, M, G, T (or KiB, MiB, GiB, TiB)");
        }
        long number;
        try {
            number = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("size '" + text + "' is too large");
        }
        if (shift > 0 && number > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("size '" + text + "' is too large");
        }
        return number << shift;
    }

    /** "16777216 bytes (16 MiB)"; just "4097 bytes" when no unit divides it exactly. */
    public static String formatSize(long bytes) {
        String plain = bytes + (bytes == 1 ? " byte" : " bytes");
        String[] units = {"PiB", "TiB", "GiB", "MiB", "KiB"};
        for (int i = 0; i < units.length; i++) {
            int shift = 50 - 10 * i;
            long unit = 1L << shift;
            if (bytes >= unit && bytes % unit == 0) {
                return plain + " (" + (bytes >> shift) + " " + units[i] + ")";
            }
        }
        return plain;
    }
}
