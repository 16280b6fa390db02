/**
 * Names: lookups, listings, create, link, unlink, rmdir and rename, with a lock per directory
 * and a rename lock for renames across directories (Namespace, Renames, NamespaceLocks).
 */
package io.daxfs.core.namespace;
