/**
 * The operators' SNS topic: every alarm notifies it and the Master publishes halts to it.
 * Encrypted with a customer managed KMS key (rotation on; about USD 1 a month) rather than the
 * AWS managed `alias/aws/sns`, because CloudWatch alarms cannot publish to a topic encrypted with
 * the AWS managed key (see below). SSL enforced, optional e-mail subscription.
 */
import { Annotations, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** Props of {@link AlertTopic}. */
export interface AlertTopicProps {
  /** E-mail address to subscribe (from `config.alerts.email` or context `alertEmail`). Default none. */
  readonly email?: string;
  /** Alarms whose names start with `<prefix>-` may publish. Default the stack name (alarms are `<stackName>-<Kind>`). */
  readonly alarmNamePrefix?: string;
}

/** The encrypted alert topic, with an optional e-mail subscription. */
export class AlertTopic extends Construct {
  /** The topic. */
  public readonly topic: sns.Topic;
  /** Its customer managed key (CloudWatch alarms need `kms:GenerateDataKey*`/`kms:Decrypt` on it). */
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: AlertTopicProps = {}) {
    super(scope, id);
    // A customer managed key, not alias/aws/sns: CloudWatch alarms can only publish to an encrypted
    // topic when the key policy lets cloudwatch.amazonaws.com use it, and the AWS managed key's policy
    // cannot be changed (Amazon SNS developer guide, "Encrypting topics ... CloudWatch alarms").
    this.key = new kms.Key(this, 'Key', { description: 'Encrypts the agent fleet alert topic', enableKeyRotation: true });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'Agent fleet alerts', masterKey: this.key, enforceSSL: true });
    // enforceSSL writes a topic policy, which replaces SNS's default one: CloudWatch alarms (a service
    // principal, not an IAM role) need an explicit Allow to publish, limited to this stack's alarms.
    const stack = Stack.of(this);
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowThisStacksAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: `${props.alarmNamePrefix ?? stack.stackName}-*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );
    if (props.email) this.topic.addSubscription(new subs.EmailSubscription(props.email));
    else {
      // Nobody would hear a halt: say so at synth (a warning, not an error: a stack may be wired to a
      // pager or chat through a subscription added outside this app).
      Annotations.of(this).addWarningV2(
        'agent-fleet:AlertTopic.noSubscriber',
        'The alert topic has no subscriber: halts and alarms reach no person. Set alerts.email in the config or deploy with -c alertEmail=<address> (or subscribe the AlertTopicArn output yourself).',
      );
    }
  }
}
