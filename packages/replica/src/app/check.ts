/**
 * The check of checkAndSet and checkAndMutate: does the value at the check key pass `checkType`
 * with `operand`? An expired or absent value does not exist. `exist` counts an empty value as
 * existing; `match*`, `bytes*` and `int*` fail on a value that does not exist; `int*` parse both
 * value and operand as decimal int64s, and when either does not parse the check fails with
 * `invalidArgument` (reported to the client as INVALID_ARGUMENT).
 */
import type { CheckType } from '@petrel/protocol';
import { parseInt64 } from './int64.js';

export { isCheckType } from '@petrel/protocol';

export interface CheckOutcome {
  passed: boolean;
  invalidArgument: boolean;
}

const PASSED: CheckOutcome = { passed: true, invalidArgument: false };
const FAILED: CheckOutcome = { passed: false, invalidArgument: false };
const INVALID: CheckOutcome = { passed: false, invalidArgument: true };

function outcome(passed: boolean): CheckOutcome {
  return passed ? PASSED : FAILED;
}

function comparisonPasses(order: number, lessType: boolean, equalType: boolean, greaterType: boolean): boolean {
  if (order < 0) return lessType;
  if (order > 0) return greaterType;
  return equalType;
}

/** `value` is undefined when the record is absent or expired. */
export function evaluateCheck(checkType: CheckType, operand: Buffer, value: Buffer | undefined): CheckOutcome {
  switch (checkType) {
    case 'noCheck':
      return PASSED;
    case 'notExist':
      return outcome(value === undefined);
    case 'notExistOrEmpty':
      return outcome(value === undefined || value.length === 0);
    case 'exist':
      return outcome(value !== undefined);
    case 'notEmpty':
      return outcome(value !== undefined && value.length > 0);
    case 'matchAnywhere':
    case 'matchPrefix':
    case 'matchPostfix': {
      if (value === undefined) return FAILED;
      if (operand.length === 0) return PASSED;
      if (value.length < operand.length) return FAILED;
      if (checkType === 'matchAnywhere') return outcome(value.indexOf(operand) >= 0);
      if (checkType === 'matchPrefix') return outcome(value.compare(operand, 0, operand.length, 0, operand.length) === 0);
      return outcome(value.compare(operand, 0, operand.length, value.length - operand.length, value.length) === 0);
    }
    case 'bytesLess':
    case 'bytesLessOrEqual':
    case 'bytesEqual':
    case 'bytesGreaterOrEqual':
    case 'bytesGreater': {
      if (value === undefined) return FAILED;
      const order = Buffer.compare(value, operand);
      return outcome(
        comparisonPasses(
          order,
          checkType === 'bytesLess' || checkType === 'bytesLessOrEqual',
          checkType === 'bytesLessOrEqual' || checkType === 'bytesEqual' || checkType === 'bytesGreaterOrEqual',
          checkType === 'bytesGreater' || checkType === 'bytesGreaterOrEqual',
        ),
      );
    }
    case 'intLess':
    case 'intLessOrEqual':
    case 'intEqual':
    case 'intGreaterOrEqual':
    case 'intGreater': {
      if (value === undefined) return FAILED;
      const valueInt = parseInt64(value);
      if (valueInt === undefined) return INVALID;
      const operandInt = parseInt64(operand);
      if (operandInt === undefined) return INVALID;
      const order = valueInt < operandInt ? -1 : valueInt > operandInt ? 1 : 0;
      return outcome(
        comparisonPasses(
          order,
          checkType === 'intLess' || checkType === 'intLessOrEqual',
          checkType === 'intLessOrEqual' || checkType === 'intEqual' || checkType === 'intGreaterOrEqual',
          checkType === 'intGreater' || checkType === 'intGreaterOrEqual',
        ),
      );
    }
    default:
      return INVALID;
  }
}
