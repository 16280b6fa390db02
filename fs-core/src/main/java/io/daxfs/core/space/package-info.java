/**
 * Transactional allocation and the one freeing path: every block that leaves a file goes
 * through Space, which checks it against the data area before anything destructive and puts
 * it on the busy list.
 */
package io.daxfs.core.space;
