import { IsBoolean, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, Min, Validate, ValidatorConstraint } from 'class-validator';
import type { ValidationArguments, ValidatorConstraintInterface } from 'class-validator';

@ValidatorConstraint({ name: 'isRegExp' })
class IsRegExpSource implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    try {
      new RegExp(value);
      return true;
    } catch {
      return false;
    }
  }
  defaultMessage(): string {
    return '$property must be a valid JavaScript regular expression';
  }
}

/** Orders two integer variables: `@Validate(ComparedTo, ['>=', 'OTHER_VARIABLE'])`. */
@ValidatorConstraint({ name: 'comparedTo' })
class ComparedTo implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    const [operator, other] = args.constraints as ['>=' | '<', string];
    const otherValue = (args.object as Record<string, unknown>)[other];
    // A bad other value is reported on its own variable.
    if (typeof value !== 'number' || typeof otherValue !== 'number') return true;
    return operator === '>=' ? value >= otherValue : value < otherValue;
  }
  defaultMessage(args: ValidationArguments): string {
    const [operator, other] = args.constraints as string[];
    return `$property must be ${operator === '>=' ? 'at least' : 'less than'} ${other}`;
  }
}

/** A Kubernetes object name (DNS subdomain, RFC 1123). */
const KUBERNETES_OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** RFC 7011: a message is at most 65535 B; over IPv4 UDP the payload is at most 65507 B. */
const MAX_UDP_PAYLOAD = 65_507;
/** Smallest message that still holds our largest template set. */
const MIN_MESSAGE_SIZE = 512;
/** Observation domains used: flows at N, RFC 5610 type records at N+1, vitals at N+2. */
const MAX_OBSERVATION_DOMAIN_ID = 2 ** 32 - 3;
const DNS_NAME_OR_ADDRESS = /^[A-Za-z0-9.:_-]+$/;

/**
 * Every environment variable the agent reads, with its default and rules. Values
 * arrive as strings; integer fields are converted before validation (see
 * load-config.ts), so "abc" fails @IsInt instead of silently becoming NaN or 0.
 */
export class EnvironmentVariables {
  @IsString() @IsNotEmpty() @Matches(DNS_NAME_OR_ADDRESS, { message: '$property must be a host name or IP address' })
  IPFIX_COLLECTOR_HOST!: string;

  @IsInt() @Min(1) @Max(65535)
  IPFIX_COLLECTOR_PORT = 4739;

  @IsInt() @Min(1)
  IPFIX_EXPORT_INTERVAL = 60;

  @IsInt() @Min(1)
  IPFIX_FLOW_TIMEOUT = 15;

  @IsInt() @Min(0) @Max(MAX_OBSERVATION_DOMAIN_ID)
  IPFIX_OBSERVATION_DOMAIN_ID = 1;

  /** RFC 5612 reserves 32473 for documentation and examples: operators set their own. */
  @IsInt() @Min(1) @Max(2 ** 32 - 1)
  IPFIX_ENTERPRISE_ID = 32473;

  @IsInt() @Min(1)
  IPFIX_TEMPLATE_REFRESH = 300;

  @IsInt() @Min(MIN_MESSAGE_SIZE) @Max(MAX_UDP_PAYLOAD)
  IPFIX_MAX_MESSAGE_SIZE = 1400;

  @IsInt() @Min(1)
  IPFIX_DNS_REFRESH = 60;

  @IsInt() @Min(1)
  FLOW_DRAIN_INTERVAL = 1;

  @IsInt() @Min(0)
  FLOW_END_LINGER = 1;

  @IsInt() @Min(1) @Max(10_000_000)
  FLOW_TABLE_MAX_FLOWS = 100_000;

  @IsIn(['auto', 'tcx', 'tc'])
  EBPF_ATTACH_MODE: 'auto' | 'tcx' | 'tc' = 'auto';

  @IsOptional() @Validate(IsRegExpSource)
  EBPF_INTERFACE_FILTER: string | undefined = undefined;

  @IsInt() @Min(1024) @Max(4_194_304)
  EBPF_BUFFER_SIZE = 65_536;

  @IsInt() @Min(0)
  K8S_DELETED_POD_GRACE = 60;

  @IsOptional() @IsString() @IsNotEmpty()
  NODE_NAME: string | undefined = undefined;

  @IsIn(['debug', 'info', 'warn', 'error'])
  LOG_LEVEL: 'debug' | 'info' | 'warn' | 'error' = 'info';

  @IsOptional() @IsString()
  LOG_FILE: string | undefined = undefined;

  @IsInt() @Min(1) @Max(65535)
  HEALTH_PORT = 8081;

  /** Avoids 9090 (Prometheus), 9100 (node-exporter) and 10250 (kubelet). */
  @IsInt() @Min(1) @Max(65535)
  METRICS_PORT = 9464;

  @IsString() @Matches(/^[0-9a-fA-F.:]+$/, { message: '$property must be an IP address' })
  HTTP_BIND_ADDRESS = '0.0.0.0';

  /** Parsed strictly: only "true" or "false" (see BOOLEAN_VARIABLES). */
  @IsBoolean({ message: '$property must be true or false' })
  VITALS_ENABLED = true;

  @IsInt() @Min(1)
  VITALS_COLLECTION_INTERVAL = 30;

  @IsInt() @Min(1)
  VITALS_EXPORT_INTERVAL = 60;

  @IsInt() @Min(1)
  VITALS_METRICS_SERVER_CHECK_INTERVAL = 300;

  /** Values read longer ago are not exported; shorter than an interval would make every value flap. */
  @IsInt() @Min(1) @Validate(ComparedTo, ['>=', 'VITALS_EXPORT_INTERVAL']) @Validate(ComparedTo, ['>=', 'VITALS_COLLECTION_INTERVAL'])
  VITALS_CACHE_TIMEOUT = 120;

  @IsString() @Matches(KUBERNETES_OBJECT_NAME, { message: '$property must be a Kubernetes object name' })
  VITALS_LEASE_NAME = 'k8s-flow-exporter';

  /** Leader election timing, as client-go's defaults and rules (duration > renew deadline > retry period). */
  @IsInt() @Min(1)
  VITALS_LEASE_DURATION = 15;

  @IsInt() @Min(1) @Validate(ComparedTo, ['<', 'VITALS_LEASE_DURATION'])
  VITALS_LEASE_RENEW_DEADLINE = 10;

  @IsInt() @Min(1) @Validate(ComparedTo, ['<', 'VITALS_LEASE_RENEW_DEADLINE'])
  VITALS_LEASE_RETRY_PERIOD = 2;

  /** Namespace of the vitals Lease (downward API); else the service account's, else "default". */
  @IsOptional() @IsString() @IsNotEmpty()
  POD_NAMESPACE: string | undefined = undefined;

  /** Leader election identity (downward API); else the host name. */
  @IsOptional() @IsString() @IsNotEmpty()
  POD_NAME: string | undefined = undefined;
}

/** Fields whose string value is converted to an integer before validation. */
export const INTEGER_VARIABLES: ReadonlyArray<keyof EnvironmentVariables> = [
  'IPFIX_COLLECTOR_PORT',
  'IPFIX_EXPORT_INTERVAL',
  'IPFIX_FLOW_TIMEOUT',
  'IPFIX_OBSERVATION_DOMAIN_ID',
  'IPFIX_ENTERPRISE_ID',
  'IPFIX_TEMPLATE_REFRESH',
  'IPFIX_MAX_MESSAGE_SIZE',
  'IPFIX_DNS_REFRESH',
  'FLOW_DRAIN_INTERVAL',
  'FLOW_END_LINGER',
  'FLOW_TABLE_MAX_FLOWS',
  'EBPF_BUFFER_SIZE',
  'K8S_DELETED_POD_GRACE',
  'HEALTH_PORT',
  'METRICS_PORT',
  'VITALS_COLLECTION_INTERVAL',
  'VITALS_EXPORT_INTERVAL',
  'VITALS_METRICS_SERVER_CHECK_INTERVAL',
  'VITALS_CACHE_TIMEOUT',
  'VITALS_LEASE_DURATION',
  'VITALS_LEASE_RENEW_DEADLINE',
  'VITALS_LEASE_RETRY_PERIOD',
];

/** Fields whose value must be exactly "true" or "false"; anything else fails validation. */
export const BOOLEAN_VARIABLES: ReadonlyArray<keyof EnvironmentVariables> = ['VITALS_ENABLED'];
