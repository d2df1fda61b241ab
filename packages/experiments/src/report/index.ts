/**
 * Reports of the reproduction suite: per-task Markdown reports with SVG plots, and the top-level README.
 *
 * @packageDocumentation
 */
export {
  writeTaskReport,
  didNotWinStatements,
  type TaskMeta,
  type TaskReportOptions,
  type TaskSummary,
  type SummaryRow,
} from "./task-report.js";
export { writeSuiteReadme, readSummaries, summaryTable, type SuiteReadmeOptions } from "./suite-report.js";
export { renderSvg, curvesSpec, barSpec, trajectorySpec } from "./plots.js";
export { contourLines, quantileLevels, type ContourLine } from "./contours.js";
export { OPTIMIZER_COLORS, OPTIMIZER_LABELS } from "./palette.js";
