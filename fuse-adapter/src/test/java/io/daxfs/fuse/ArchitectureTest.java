package io.daxfs.fuse;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The shape of fuse-adapter: one package per front end ({@code kernel}, {@code libfuse}), the
 * shared packages below them ({@code mount}, {@code options}, {@code vfs}), the daemon's wiring
 * ({@code io.daxfs.fuse}, where the front end is chosen) above them and the command line
 * ({@code cli}) on top; no package cycle.
 */
class ArchitectureTest {
    private static final String ROOT = "io.daxfs.fuse";
    private static final String KERNEL = "io.daxfs.fuse.kernel..";
    private static final String LIBFUSE = "io.daxfs.fuse.libfuse..";
    private static JavaClasses adapter;

    @BeforeAll
    static void importClasses() {
        adapter = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages(ROOT);
    }

    /** Every package of fuse-adapter is a slice, its root package ({@code MountDaemon}) included. */
    private static final SliceAssignment PACKAGES = new SliceAssignment() {
        @Override
        public SliceIdentifier getIdentifierOf(JavaClass c) {
            String p = c.getPackageName();
            if (p.equals(ROOT)) {
                return SliceIdentifier.of("io.daxfs.fuse");
            }
            if (p.startsWith(ROOT + ".")) {
                return SliceIdentifier.of(ROOT + "." + p.substring(ROOT.length() + 1).split("\\.")[0]);
            }
            return SliceIdentifier.ignore();
        }

        @Override
        public String getDescription() {
            return "the packages of fuse-adapter";
        }
    };

    @Test
    void packagesOfFuseAdapterHaveNoCycles() {
        slices().assignedFrom(PACKAGES).should().beFreeOfCycles().check(adapter);
    }

    @Test
    void theFrontEndsDoNotDependOnEachOther() {
        noClasses().that().resideInAPackage(KERNEL)
                .should().dependOnClassesThat().resideInAPackage(LIBFUSE)
                .check(adapter);
        noClasses().that().resideInAPackage(LIBFUSE)
                .should().dependOnClassesThat().resideInAPackage(KERNEL)
                .check(adapter);
    }

    @Test
    void theSharedPackagesKnowNoFrontEndNorTheDaemon() {
        noClasses().that().resideInAnyPackage("io.daxfs.fuse.mount..", "io.daxfs.fuse.options..", "io.daxfs.fuse.vfs..")
                .should().dependOnClassesThat().resideInAnyPackage(ROOT, KERNEL, LIBFUSE, "io.daxfs.fuse.cli..")
                .check(adapter);
    }

    /** Only the daemon's wiring ({@code MountDaemon.frontEnd}) picks a front end. */
    @Test
    void aFrontEndIsChosenInOnePlace() {
        noClasses().that().resideOutsideOfPackages(ROOT, KERNEL)
                .should().dependOnClassesThat().resideInAPackage(KERNEL)
                .check(adapter);
        noClasses().that().resideOutsideOfPackages(ROOT, LIBFUSE)
                .should().dependOnClassesThat().resideInAPackage(LIBFUSE)
                .check(adapter);
    }

    @Test
    void onlyTheLibfuseFrontEndKnowsJnrFuse() {
        noClasses().that().resideOutsideOfPackage(LIBFUSE)
                .should().dependOnClassesThat().resideInAPackage("ru.serce.jnrfuse..")
                .check(adapter);
    }
}
