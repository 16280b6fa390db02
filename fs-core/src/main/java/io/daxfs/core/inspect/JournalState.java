package io.daxfs.core.inspect;

/**
 * What the journal holds, read without replaying it.
 *
 * @param headerValid    the journal header carries its magic
 * @param appliedSeq     the last transaction marked applied
 * @param pendingSeq     a committed transaction a mount would replay, or 0 if there is none
 * @param pendingRecords records of that transaction
 * @param pendingBytes   bytes those records would write
 * @param orphans        inodes on the orphan list (freed by the next mount), -1 if the list is damaged
 * @param capacityBytes  the largest transaction the slot holds
 */
public record JournalState(boolean headerValid, long appliedSeq, long pendingSeq, int pendingRecords,
                           long pendingBytes, long orphans, long capacityBytes) {
    public boolean pending() {
        return pendingSeq != 0;
    }
}
