/**
 * Writes to a fixed set of Int32Arrays that can be taken back: while a mark is open, every write
 * records the value it overwrites, and `undo` puts them back, newest first. A trial move of the
 * container search writes a few dozen entries, where a copy of the whole state is every (VM, tier)
 * pair several times over. Marks nest (a move tried inside another); they close in the reverse order
 * of their opening, and once none is open nothing is recorded.
 */
export class UndoLog {
  private entries = new Int32Array(4096);
  private length = 0;
  private readonly marks: number[] = [];

  /** `arrays[id]` is the array `set(id, …)` writes to; at most 16 of them. */
  constructor(private readonly arrays: Int32Array[]) {
    if (arrays.length > 16) throw new Error('an undo log covers at most 16 arrays');
  }

  set(id: number, i: number, value: number): void {
    const array = this.arrays[id];
    if (this.marks.length > 0) {
      if (this.length + 2 > this.entries.length) {
        const grown = new Int32Array(this.entries.length * 2);
        grown.set(this.entries);
        this.entries = grown;
      }
      this.entries[this.length++] = (i << 4) | id;
      this.entries[this.length++] = array[i];
    }
    array[i] = value;
  }

  /** Opens a mark: what is written from now on can be undone. */
  open(): void {
    this.marks.push(this.length);
  }

  /** Puts back every value written since the last open mark, and closes it. */
  undo(): void {
    const from = this.marks.pop();
    if (from === undefined) throw new Error('undo without an open mark');
    const { entries, arrays } = this;
    for (let k = this.length - 2; k >= from; k -= 2) {
      const code = entries[k];
      arrays[code & 15][code >>> 4] = entries[k + 1];
    }
    this.length = from;
  }

  /** Closes the last open mark, keeping what was written (an outer mark may still undo it). */
  keep(): void {
    if (this.marks.pop() === undefined) throw new Error('keep without an open mark');
    if (this.marks.length === 0) this.length = 0;
  }

  /** Whether a mark is open (a full restore would then leave the log out of step). */
  get recording(): boolean {
    return this.marks.length > 0;
  }
}
