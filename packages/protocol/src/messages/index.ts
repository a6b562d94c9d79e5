/** Client ↔ replica messages, mutations and their binary codec (doc/messages.md). */
export * from './types.js';
export {
  PROTOCOL_VERSION,
  MIN_PROTOCOL_VERSION,
  RESPONSE_BIT,
  MESSAGE_TYPE_RANGES,
  REQUEST_TYPE_IDS,
  ERROR_RESPONSE_TYPE_ID,
  CHECK_TYPE_IDS,
  isCheckType,
  isFilterType,
  FILTER_TYPE_IDS,
  responseTypeId,
  negotiateProtocolVersion,
  type RequestName,
} from './ids.js';
export type { HelloRequest, HelloResponse, ErrorResponse, RequestHeader, Routed } from './bodies.js';
export {
  encodeMessage,
  decodeMessage,
  writeMessage,
  peekEnvelope,
  withRequestId,
  encodeHello,
  encodeHelloResponse,
  requestNameOf,
  typeIdOf,
  type Message,
  type RequestMessage,
  type ResponseMessage,
  type ErrorMessage,
  type RequestBodies,
  type ResponseBodies,
} from './codec.js';
export { MUTATION_FORMAT_VERSION, encodeMutation, decodeMutation, writeMutation } from './mutation_codec.js';
export { checkTypeId } from './fields.js';
