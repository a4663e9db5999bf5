/**
 * Reads a synthesized CloudFormation template the way the local runtime needs it: local
 * physical names and ARNs for resources, intrinsic functions resolved (Ref, Fn::GetAtt Arn,
 * Fn::Join, Fn::Sub, Fn::Select, pseudo parameters), and typed views of the tables,
 * functions, state machine, schedules and alarms.
 *
 * Local ARNs: `arn:aws:<service>:local:000000000000:...`, e.g. a function is
 * `arn:aws:lambda:local:000000000000:function:<name>` (FunctionName when the template sets one, else the logical id).
 */

/** A CloudFormation template as JSON. */
export interface CfnTemplate {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

/** Local region and account in ARNs. */
export const LOCAL_REGION = 'local';
export const LOCAL_ACCOUNT = '000000000000';

/** Local ARN of a function by logical id. */
export function localFunctionArn(logicalId: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${logicalId}`;
}

/** Resolves intrinsics against local names. */
export class LocalTemplate {
  constructor(
    readonly template: CfnTemplate,
    readonly stackName = 'AgentFleet',
  ) {}

  /** The raw resource (unresolved). @throws {Error} when the template has no such resource. */
  res(id: string) {
    const r = this.template.Resources[id];
    if (!r) throw new Error(`Template has no resource ${id}`);
    return r;
  }

  /** Logical ids of a resource type. */
  ofType(type: string): string[] {
    return Object.entries(this.template.Resources)
      .filter(([, r]) => r.Type === type)
      .map(([id]) => id);
  }

  /** What `Ref` returns locally for a resource. */
  ref(id: string): string {
    switch (id) {
      case 'AWS::Region':
        return LOCAL_REGION;
      case 'AWS::AccountId':
        return LOCAL_ACCOUNT;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::StackName':
        return this.stackName;
      case 'AWS::StackId':
        return `arn:aws:cloudformation:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stack/${this.stackName}/00000000-0000-0000-0000-000000000000`;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::NoValue':
        return '';
    }
    const r = this.res(id);
    const p = r.Properties ?? {};
    const named = (key: string) => (typeof p[key] === 'string' || (p[key] && typeof p[key] === 'object') ? String(this.resolve(p[key])) : id);
    switch (r.Type) {
      case 'AWS::DynamoDB::Table':
        return named('TableName');
      case 'AWS::Lambda::Function':
        return named('FunctionName');
      case 'AWS::StepFunctions::StateMachine':
      case 'AWS::SNS::Topic':
        return this.arn(id);
      case 'AWS::Scheduler::ScheduleGroup':
      case 'AWS::Scheduler::Schedule':
      case 'AWS::Events::EventBus':
      case 'AWS::CloudWatch::Alarm':
        return named(r.Type === 'AWS::CloudWatch::Alarm' ? 'AlarmName' : 'Name');
      default:
        return id;
    }
  }

  /** What `Fn::GetAtt [id, 'Arn']` returns locally. */
  arn(id: string): string {
    const r = this.res(id);
    const p = r.Properties ?? {};
    const nm = (key: string) => (p[key] ? String(this.resolve(p[key])) : id);
    const base = `${LOCAL_REGION}:${LOCAL_ACCOUNT}`;
    switch (r.Type) {
      case 'AWS::Lambda::Function':
        return `arn:aws:lambda:${base}:function:${this.ref(id)}`;
      case 'AWS::StepFunctions::StateMachine':
        return `arn:aws:states:${base}:stateMachine:${nm('StateMachineName')}`;
      case 'AWS::DynamoDB::Table':
        return `arn:aws:dynamodb:${base}:table/${this.ref(id)}`;
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${base}:${nm('TopicName')}`;
      case 'AWS::Events::EventBus':
        return `arn:aws:events:${base}:event-bus/${this.ref(id)}`;
      case 'AWS::Scheduler::Schedule':
        return `arn:aws:scheduler:${base}:schedule/${p.GroupName ? this.resolve(p.GroupName) : 'default'}/${this.ref(id)}`;
      case 'AWS::Scheduler::ScheduleGroup':
        return `arn:aws:scheduler:${base}:schedule-group/${this.ref(id)}`;
      case 'AWS::CloudWatch::Alarm':
        return `arn:aws:cloudwatch:${base}:alarm:${this.ref(id)}`;
      case 'AWS::IAM::Role':
        return `arn:aws:iam::${LOCAL_ACCOUNT}:role/${id}`;
      case 'AWS::Logs::LogGroup':
        return `arn:aws:logs:${base}:log-group:${id}`;
      default:
        return `arn:aws:local:${base}:${id}`;
    }
  }

  /**
   * Resolves intrinsic functions in a value.
   * @throws {Error} for an intrinsic the local runtime does not know (names it and the value).
   */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (!value || typeof value !== 'object') return value;
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) {
      const k = keys[0];
      const a = o[k];
      switch (k) {
        case 'Ref':
          return this.ref(String(a));
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(a) ? (a as string[]) : String(a).split('.');
          if (attr === 'Arn') return this.arn(id);
          if (attr.endsWith('Name')) return this.ref(id);
          // Other attributes (URLs, stream ARNs...) get a stable local placeholder.
          return `local:${id}.${attr}`;
        }
        case 'Fn::Join': {
          const [sep, parts] = a as [string, unknown[]];
          return (this.resolve(parts) as unknown[]).map(String).join(sep);
        }
        case 'Fn::Select': {
          const [i, list] = a as [number, unknown];
          return (this.resolve(list) as unknown[])[Number(this.resolve(i))];
        }
        case 'Fn::Split': {
          const [sep, s] = a as [string, unknown];
          return String(this.resolve(s)).split(sep);
        }
        case 'Fn::Sub': {
          const [text, vars] = typeof a === 'string' ? [a, {}] : (a as [string, Record<string, unknown>]);
          return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
            if (name in vars) return String(this.resolve(vars[name]));
            if (name.includes('.')) {
              const [id, attr] = name.split('.');
              return String(this.resolve({ 'Fn::GetAtt': [id, attr] }));
            }
            return this.ref(name);
          });
        }
        default:
          throw new Error(`Local runtime cannot resolve ${k} in ${JSON.stringify(value).slice(0, 200)}`);
      }
    }
    return Object.fromEntries(Object.entries(o).map(([kk, v]) => [kk, this.resolve(v)]));
  }

  /** Resolved Properties of a resource. */
  props(id: string): Record<string, unknown> {
    return this.resolve(this.res(id).Properties ?? {}) as Record<string, unknown>;
  }
}
