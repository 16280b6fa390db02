package io.daxfs.core;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shape of fs-core (docs/architecture.md): one package per job, no package cycles, the
 * facade on top and the basic types at the bottom, every on-media integer through
 * {@code MediaOrder}, and classes small enough to read.
 */
class ArchitectureTest {
    private static JavaClasses core;

    @BeforeAll
    static void importClasses() {
        core = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.daxfs.core", "io.daxfs.devdax");
    }

    @Test
    void packagesOfFsCoreHaveNoCycles() {
        slices().matching("io.daxfs.core.(*)..").should().beFreeOfCycles().check(core);
    }

    @Test
    void nothingImportsTheFacade() {
        noClasses().that().resideInAPackage("io.daxfs.core.*..")
                .should().dependOnClassesThat().resideInAPackage("io.daxfs.core")
                .check(core);
    }

    @Test
    void theBasicTypesDependOnNothingElseOfFsCore() {
        noClasses().that().resideInAPackage("io.daxfs.core.base")
                .should().dependOnClassesThat().resideOutsideOfPackages("io.daxfs.core.base", "java..")
                .check(core);
    }

    @Test
    void devdaxKnowsNothingOfTheFileSystem() {
        noClasses().that().resideInAPackage("io.daxfs.devdax..")
                .should().dependOnClassesThat().resideInAPackage("io.daxfs.core..")
                .check(core);
    }

    /**
     * docs/format.md: every integer on the device is little endian. Code that touches device
     * memory uses {@code MediaOrder}'s layouts and buffers, never the native-order layouts or
     * a byte order of its own. Exempt: {@code MediaOrder} itself, the native calls' structs
     * (devdax {@code Posix}, {@code FileIo}) and the POSIX ACL value format, which is the
     * kernel's (little endian by definition, not a daxfs layout).
     */
    @Test
    void onMediaIntegersGoThroughMediaOrder() {
        noClasses().that().resideInAnyPackage("io.daxfs.core..", "io.daxfs.devdax..")
                .and().haveNameNotMatching(".*\\.(MediaOrder|Posix|FileIo|Acl)(\\$.*)?")
                .should().accessField(ValueLayout.class, "JAVA_LONG_UNALIGNED")
                .orShould().accessField(ValueLayout.class, "JAVA_INT_UNALIGNED")
                .orShould().accessField(ValueLayout.class, "JAVA_SHORT_UNALIGNED")
                .orShould().accessField(ValueLayout.class, "JAVA_LONG")
                .orShould().accessField(ValueLayout.class, "JAVA_INT")
                .orShould().accessField(ValueLayout.class, "JAVA_SHORT")
                .orShould().accessField(ByteOrder.class, "LITTLE_ENDIAN")
                .orShould().accessField(ByteOrder.class, "BIG_ENDIAN")
                .orShould().callMethod(ByteOrder.class, "nativeOrder")
                .check(core);
    }

    @Test
    void theFacadeIsThinAndNoClassIsHuge() throws IOException {
        Path main = Path.of("src/main/java/io/daxfs/core");
        assertTrue(Files.isDirectory(main), "run from the fs-core module: " + main.toAbsolutePath());
        List<String> tooLong;
        try (Stream<Path> files = Files.walk(main)) {
            tooLong = files.filter(f -> f.toString().endsWith(".java"))
                    .filter(f -> lines(f) > 800)
                    .map(f -> f + ": " + lines(f) + " lines").toList();
        }
        assertEquals(List.of(), tooLong, "no class in fs-core over 800 lines");
        long facade = lines(main.resolve("DaxFileSystem.java"));
        // Every method of the facade delegates in a few lines; the limit grows only by such methods.
        assertTrue(facade < 510, "DaxFileSystem has " + facade + " lines; the facade stays under 510");
    }

    private static long lines(Path f) {
        try (Stream<String> s = Files.lines(f)) {
            return s.count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
