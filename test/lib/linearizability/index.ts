/**
 * The linearizability checker of test/: histories, models, the search, and saved histories.
 * The algorithm is described in search.ts; the model of a key-value table in kv_model.ts.
 */
export { type ClientId, type Operation, type HistoryEvent, isMaybe, validateHistory, historyFromEvents } from './history.js';
export { type Model, type StepResult, partitionBy } from './model.js';
export { type KvInput, type KvOutput, type KvState, kvModel, parseInt64 } from './kv_model.js';
export { type CheckOptions, type CheckResult, type KeyCheck, type LinearizabilityReport, type UnplacedOperation, checkHistory, checkEvents } from './checker.js';
export { formatOperation } from './report.js';
export { type SearchBudget, type SearchOutcome, searchLinearization } from './search.js';
export { type SavedHistory, historyFormatName, historyFormatVersion, historyToJson, historyFromJson, saveHistory, loadHistory } from './history_json.js';
export { type RandomHistoryOptions, randomKvHistory } from './random_history.js';
