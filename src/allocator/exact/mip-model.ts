/**
 * A mixed-integer linear program in engine-neutral form: the allocation model is written once and
 * handed to HiGHS (as arrays) or to CBC (as an LP file) unchanged.
 */
export interface MipColumn {
  name: string;
  lower: number;
  upper: number;
  cost: number;
  integer: boolean;
}

export interface MipRow {
  name: string;
  /** Column index and coefficient pairs. */
  terms: Array<[number, number]>;
  lower: number;
  upper: number;
}

export interface MipModel {
  columns: MipColumn[];
  rows: MipRow[];
  /** Constant added to the objective. */
  offset: number;
}

export class MipModelBuilder {
  readonly model: MipModel = { columns: [], rows: [], offset: 0 };

  addColumn(name: string, lower: number, upper: number, cost: number, integer = true): number {
    this.model.columns.push({ name, lower, upper, cost, integer });
    return this.model.columns.length - 1;
  }

  addRow(name: string, terms: Array<[number, number]>, lower: number, upper: number): void {
    this.model.rows.push({ name, terms, lower, upper });
  }

  addOffset(value: number): void {
    this.model.offset += value;
  }
}

/** The model in CPLEX LP format, which both HiGHS and CBC read. The offset is left out (LP readers differ on constants). */
export function toLpText(model: MipModel): string {
  const lines: string[] = ['Minimize'];
  const objective = model.columns
    .map((c, j) => [j, c.cost] as [number, number])
    .filter(([, cost]) => cost !== 0);
  lines.push(` obj: ${objective.length > 0 ? formatTerms(model, objective) : `0 ${model.columns[0]?.name ?? 'dummy'}`}`);
  lines.push('Subject To');
  for (const row of model.rows) {
    const expr = formatTerms(model, row.terms);
    if (row.lower === row.upper) lines.push(` ${row.name}: ${expr} = ${row.lower}`);
    else {
      if (Number.isFinite(row.lower)) lines.push(` ${row.name}_lo: ${expr} >= ${row.lower}`);
      if (Number.isFinite(row.upper)) lines.push(` ${row.name}_up: ${expr} <= ${row.upper}`);
    }
  }
  lines.push('Bounds');
  for (const c of model.columns) lines.push(` ${c.lower} <= ${c.name} <= ${c.upper}`);
  const integers = model.columns.filter((c) => c.integer).map((c) => c.name);
  if (integers.length > 0) {
    lines.push('Generals');
    for (let i = 0; i < integers.length; i += 10) lines.push(` ${integers.slice(i, i + 10).join(' ')}`);
  }
  lines.push('End', '');
  return lines.join('\n');
}

function formatTerms(model: MipModel, terms: Array<[number, number]>): string {
  return terms
    .map(([j, coef], i) => {
      const sign = coef < 0 ? '-' : i === 0 ? '' : '+';
      const magnitude = Math.abs(coef);
      return `${sign}${i === 0 && sign === '' ? '' : ' '}${magnitude === 1 ? '' : `${magnitude} `}${model.columns[j].name}`;
    })
    .join(' ');
}
