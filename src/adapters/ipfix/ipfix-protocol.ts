/** Protocol constants of IPFIX (RFC 7011) and the limits this exporter works within. */

/** RFC 7011 §3.1: version number of an IPFIX message header. */
export const IPFIX_VERSION = 10;
/** RFC 7011 §3.1: version, length, export time, sequence number, observation domain id. */
export const MESSAGE_HEADER_LENGTH = 16;
/** RFC 7011 §3.3.2: set id and set length. */
export const SET_HEADER_LENGTH = 4;
/** RFC 7011 §3.3.2: set ids 2 (templates), 3 (options templates), 256 and above (data, id = template id). */
export const TEMPLATE_SET_ID = 2;
export const OPTIONS_TEMPLATE_SET_ID = 3;
export const MIN_DATA_SET_ID = 256;
/** RFC 7011 §3.4.1 / §3.4.2.2: template id, field count (+ scope field count for options templates). */
export const TEMPLATE_RECORD_HEADER_LENGTH = 4;
export const OPTIONS_TEMPLATE_RECORD_HEADER_LENGTH = 6;
/** RFC 7011 §3.2: the enterprise bit of a field specifier's element id. */
export const ENTERPRISE_BIT = 0x8000;
/** RFC 7011 §3.2: element id (with E bit) and field length; 4 more octets of enterprise number when E = 1. */
export const FIELD_SPECIFIER_LENGTH = 4;
export const ENTERPRISE_NUMBER_LENGTH = 4;
/** RFC 7011 §7: field length 65535 in a template means variable length. */
export const VARIABLE_LENGTH = 0xffff;
/** RFC 7011 §7: a variable-length field carries a 1-octet length below 255, else 255 and a 2-octet length. */
export const VARIABLE_LENGTH_LONG_MARKER = 255;
export const MAX_SHORT_VARIABLE_LENGTH = 254;
export const MAX_VARIABLE_LENGTH = 0xffff;
/** RFC 7011 §3.1: the message length field is 16 bits. */
export const MAX_MESSAGE_LENGTH = 0xffff;
/** IPv4 UDP payload ceiling (65535 − 20 IP − 8 UDP): the largest message we can send in one datagram. */
export const MAX_UDP_MESSAGE_LENGTH = 65_507;
/** RFC 7011 §3.1: the sequence number counts modulo 2^32. */
export const SEQUENCE_MODULUS = 2 ** 32;

/**
 * Observation domains this exporter uses, as offsets from IPFIX_OBSERVATION_DOMAIN_ID.
 * RFC 5610 type records (options data records) live in a domain of their own so that
 * collectors which do not count options records in the sequence (nfcapd 1.7.1) and
 * those that do (tshark) both see gapless flow sequences.
 */
export const ObservationDomainOffset = { Flows: 0, TypeRecords: 1, Vitals: 2 } as const;
