package io.daxfs.fuse.cli;

import io.daxfs.core.format.Superblock;

import picocli.CommandLine;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * What {@code --version} prints, for the top command and every subcommand: the version Maven
 * built (version.properties, filled in at build time), the on-media format this build reads and
 * writes, and the JVM.
 */
final class DaxfsVersion implements CommandLine.IVersionProvider {

    /** The build's version, e.g. "0.1.0-SNAPSHOT"; "unknown" outside a Maven build. */
    static String version() {
        try (InputStream in = DaxfsVersion.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "unknown");
            return v.startsWith("${") ? "unknown" : v;
        } catch (IOException e) {
            return "unknown";
        }
    }

    @Override
    public String[] getVersion() {
        return new String[] {
            "daxfs " + version(),
            "on-media format version " + Superblock.VERSION,
            "Java " + Runtime.version() + " (" + System.getProperty("java.vendor", "unknown vendor") + ")"
        };
    }
}
