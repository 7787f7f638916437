import {dumpYaml} from '../models/yaml-source.js'

export type ListFormat = 'json' | 'table' | 'yaml'

export interface Column<Row> {
  align?: 'left' | 'right'
  header: string
  value: (row: Row) => string
}

/** A plain aligned table: headers in capitals, columns separated by two spaces, the last column unpadded. */
export function formatTable<Row>(rows: Row[], columns: Column<Row>[]): string {
  const cells = [columns.map((c) => c.header), ...rows.map((row) => columns.map((c) => c.value(row)))]
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i].length)))
  return cells
    .map((line) =>
      line
        .map((cell, i) => {
          if (i === line.length - 1) return cell
          return columns[i].align === 'right' ? cell.padStart(widths[i]) : cell.padEnd(widths[i])
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

export function formatList<Row>(rows: Row[], format: ListFormat, columns: Column<Row>[]): string {
  if (format === 'json') return JSON.stringify(rows, null, 2)
  if (format === 'yaml') return dumpYaml(rows).trimEnd()
  return formatTable(rows, columns)
}
