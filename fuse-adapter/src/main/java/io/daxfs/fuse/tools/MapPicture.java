package io.daxfs.fuse.tools;

import io.daxfs.core.format.Geometry;

import org.apache.batik.svggen.SVGGeneratorContext;
import org.apache.batik.svggen.SVGGraphics2D;
import org.w3c.dom.Document;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Dimension;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;

/**
 * Draws a {@link DeviceMap} with Java2D: a title, the grid of cells (one colour per category,
 * paler the emptier the cell), offsets down the left side, and a legend of the categories and
 * the largest files. The same drawing goes to a PNG (a {@link BufferedImage} written by
 * ImageIO) or to an SVG (Batik's {@link SVGGraphics2D}).
 */
public final class MapPicture {
    static final Color FREE = new Color(0xeeeeee);
    private static final Color[] FIXED = {
        new Color(0x000000), // superblocks
        new Color(0x3d3d5c), // journal
        new Color(0x5c5c85), // inode bitmap
        new Color(0x7a7aa3), // block bitmap
        new Color(0x8c8cb3), // bitmap checksums
        new Color(0x9e9ec2), // inode table
        FREE,
        new Color(0xc8a165), // directories
        new Color(0x2f4f4f), // block maps, xattrs
        new Color(0x9fb3cc), // other files
        new Color(0xff00ff), // in use, no owner
    };
    /** Distinct colours for the largest files (after Sasha Trubetskoy's list), magenta left out. */
    private static final Color[] FILES = {
        new Color(0xe6194b), new Color(0x3cb44b), new Color(0x4363d8), new Color(0xf58231), new Color(0x911eb4),
        new Color(0x42d4f4), new Color(0xbfef45), new Color(0xfabed4), new Color(0x469990), new Color(0xdcbeff),
        new Color(0x9a6324), new Color(0xffe119), new Color(0x800000), new Color(0xaaffc3), new Color(0x808000),
        new Color(0xffd8b1), new Color(0x000075), new Color(0xa9a9a9),
    };
    public static final int MAX_FILES = FILES.length;

    private static final int LEFT = 90;
    private static final int TOP = 64;
    private static final int RIGHT = 24;
    private static final int LINE = 18;

    private final DeviceMap map;
    private final String title;
    private final String subtitle;
    private final int cellPx;

    /** {@code title} and {@code subtitle}: the two lines above the grid. */
    public MapPicture(DeviceMap map, String title, String subtitle) {
        this.map = map;
        this.title = title;
        this.subtitle = subtitle;
        this.cellPx = map.rows() < 64 ? 8 : 4;
    }

    static Color colour(int category) {
        return category < DeviceMap.FIRST_FILE ? FIXED[category] : FILES[category - DeviceMap.FIRST_FILE];
    }

    private int gridWidth() {
        return map.columns() * cellPx * (DeviceMap.COLUMNS / Math.max(1, map.columns()));
    }

    private int legendLines() {
        return 2 + (int) Math.ceil(map.present().stream().filter(k -> k < DeviceMap.FIRST_FILE).count() / 4.0)
                + (map.files().isEmpty() ? 0 : 1 + map.files().size());
    }

    public Dimension size() {
        int width = LEFT + Math.max(gridWidth(), 760) + RIGHT;
        int height = TOP + map.rows() * cellPx + 16 + legendLines() * LINE + 12;
        return new Dimension(width, height);
    }

    /** The colour of one cell: its largest category, blended towards "free" by how empty the cell is. */
    Color cellColour(int cell) {
        int best = -1;
        long bestCount = 0;
        long used = 0;
        long free = map.count(cell, DeviceMap.Category.FREE.ordinal());
        for (int k = 0; k < map.categories(); k++) {
            if (k == DeviceMap.Category.FREE.ordinal()) {
                continue;
            }
            int n = map.count(cell, k);
            used += n;
            if (n > bestCount) {
                best = k;
                bestCount = n;
            }
        }
        if (best < 0) {
            return FREE;
        }
        double full = (double) used / (used + free);
        return blend(FREE, colour(best), 0.35 + 0.65 * full);
    }

    private static Color blend(Color a, Color b, double t) {
        return new Color((int) Math.round(a.getRed() + (b.getRed() - a.getRed()) * t),
                (int) Math.round(a.getGreen() + (b.getGreen() - a.getGreen()) * t),
                (int) Math.round(a.getBlue() + (b.getBlue() - a.getBlue()) * t));
    }

    /** Draws the whole picture onto {@code g} (origin top left, {@link #size()} big). */
    public void paint(Graphics2D g) {
        Dimension size = size();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, size.width, size.height);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString(title, LEFT, 24);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawString(subtitle, LEFT, 44);
        paintGrid(g);
        paintLegend(g, TOP + map.rows() * cellPx + 16);
    }

    private void paintGrid(Graphics2D g) {
        int columns = map.columns();
        int px = cellPx * (DeviceMap.COLUMNS / Math.max(1, columns));
        for (int row = 0; row < map.rows(); row++) {
            int y = TOP + row * cellPx;
            int col = 0;
            while (col < columns) {
                int cell = row * columns + col;
                if (cell >= map.cells()) {
                    break;
                }
                Color c = cellColour(cell);
                int run = 1;
                while (col + run < columns && cell + run < map.cells() && cellColour(cell + run).equals(c)) {
                    run++;
                }
                g.setColor(c);
                g.fillRect(LEFT + col * px, y, run * px, cellPx);
                col += run;
            }
        }
        g.setColor(Color.GRAY);
        g.setStroke(new BasicStroke(1f));
        g.drawRect(LEFT - 1, TOP - 1, columns * px + 1, map.rows() * cellPx + 1);
        // offsets down the left side, about every 48 pixels
        g.setColor(Color.DARK_GRAY);
        g.setFont(new Font(Font.MONOSPACED, Font.PLAIN, 11));
        FontMetrics fm = g.getFontMetrics();
        int every = Math.max(1, Integer.highestOneBit(Math.max(1, 48 / cellPx)));
        long rowBytes = columns * map.blocksPerCell() * Geometry.BLOCK_SIZE;
        for (int row = 0; row < map.rows(); row += every) {
            String label = Sizes.bytes(row * rowBytes);
            g.drawString(label, LEFT - 8 - fm.stringWidth(label), TOP + row * cellPx + fm.getAscent() - 2);
        }
    }

    private void paintLegend(Graphics2D g, int y) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        FontMetrics fm = g.getFontMetrics();
        g.setColor(Color.BLACK);
        long cellBytes = map.blocksPerCell() * Geometry.BLOCK_SIZE;
        g.drawString(String.format(Locale.ROOT, "one cell = %s (%d block%s), %d cells a row (%s); a cell takes the colour of"
                + " what fills most of it, paler the more of it is free", Sizes.bytes(cellBytes), map.blocksPerCell(),
                map.blocksPerCell() == 1 ? "" : "s", map.columns(), Sizes.bytes(cellBytes * map.columns())), LEFT, y + 12);
        y += LINE + 6;
        int x = LEFT;
        int slot = 190;
        int i = 0;
        for (int k : map.present()) {
            if (k >= DeviceMap.FIRST_FILE) {
                continue;
            }
            String label = DeviceMap.Category.values()[k].label + " " + Sizes.bytes(map.total(k) * Geometry.BLOCK_SIZE);
            swatch(g, x + (i % 4) * slot, y + (i / 4) * LINE, colour(k));
            g.setColor(Color.BLACK);
            g.drawString(label, x + (i % 4) * slot + 18, y + (i / 4) * LINE + 11);
            i++;
        }
        y += (int) Math.ceil(i / 4.0) * LINE + 6;
        List<DeviceMap.FileShare> files = map.files();
        if (files.isEmpty()) {
            return;
        }
        g.drawString("largest files:", x, y + 11);
        y += LINE;
        List<String> sizes = new ArrayList<>();
        int sizeWidth = 0;
        for (DeviceMap.FileShare f : files) {
            String s = Sizes.bytes(f.blocks() * Geometry.BLOCK_SIZE) + " in " + f.extents() + " extent"
                    + (f.extents() == 1 ? "" : "s");
            sizes.add(s);
            sizeWidth = Math.max(sizeWidth, fm.stringWidth(s));
        }
        for (int f = 0; f < files.size(); f++) {
            int row = y + f * LINE;
            swatch(g, x, row, colour(DeviceMap.FIRST_FILE + f));
            g.setColor(Color.BLACK);
            g.drawString(sizes.get(f), x + 18 + sizeWidth - fm.stringWidth(sizes.get(f)), row + 11);
            g.drawString(files.get(f).path(), x + 18 + sizeWidth + 14, row + 11);
        }
    }

    private static void swatch(Graphics2D g, int x, int y, Color c) {
        g.setColor(c);
        g.fillRect(x, y, 12, 12);
        g.setColor(Color.GRAY);
        g.drawRect(x, y, 12, 12);
    }

    /** Writes the picture to {@code out}: SVG if the name ends in .svg, else PNG. */
    public void write(Path out) throws IOException {
        if (out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".svg")) {
            writeSvg(out);
        } else {
            writePng(out);
        }
    }

    void writePng(Path out) throws IOException {
        Dimension size = size();
        BufferedImage image = new BufferedImage(size.width, size.height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            paint(g);
        } finally {
            g.dispose();
        }
        if (!ImageIO.write(image, "png", out.toFile())) {
            throw new IOException("no PNG writer in this JVM");
        }
    }

    void writeSvg(Path out) throws IOException {
        Document doc;
        try {
            doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().getDOMImplementation()
                    .createDocument("http://www.w3.org/2000/svg", "svg", null);
        } catch (ParserConfigurationException e) {
            throw new IOException("no XML DOM in this JVM: " + e.getMessage(), e);
        }
        SVGGeneratorContext context = SVGGeneratorContext.createDefault(doc);
        context.setComment("daxfs map");
        SVGGraphics2D g = new SVGGraphics2D(context, false);
        Dimension size = size();
        g.setSVGCanvasSize(size);
        paint(g);
        try (Writer w = new OutputStreamWriter(Files.newOutputStream(out), StandardCharsets.UTF_8)) {
            g.stream(w, true);
        }
    }
}
