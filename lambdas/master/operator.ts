/**
 * The operator function (`<stackName>-operator`): the only function that loosens control (resume,
 * safe mode off). Reachable only through its Lambda function URL with `AWS_IAM` auth; neither the
 * alarms (`lambda.alarms.cloudwatch.amazonaws.com`) nor the state machine's role may invoke it, and
 * the audit actor is the caller's IAM identity. Same ports and Control table as the Master
 * (`handler.ts`); see {@link createOperatorHandler}.
 */
export { createOperatorHandler, operatorHandler as handler, type FunctionUrlRequest, type FunctionUrlResponse, type OperatorHandler } from './handler';
