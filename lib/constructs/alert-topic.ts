/**
 * The operators' SNS topic: every alarm notifies it and the Master publishes halts to it.
 * Encrypted with a customer managed KMS key (rotation on; about USD 1 a month) rather than the
 * AWS managed `alias/aws/sns`, because CloudWatch alarms cannot publish to a topic encrypted with
 * the AWS managed key (see below). SSL enforced, optional e-mail subscription.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** Props of {@link AlertTopic}. */
export interface AlertTopicProps {
  /** E-mail address to subscribe (from `config.alerts.email` or context `alertEmail`). Default none. */
  readonly email?: string;
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
    if (props.email) this.topic.addSubscription(new subs.EmailSubscription(props.email));
  }
}
