import { DataTypeCode, ElementSemantics, ElementUnits, ENTERPRISE_ELEMENT_DEFINITIONS, exporterRegistry, IANA_REGISTRY } from '../../src/adapters/ipfix/information-elements.js';
import {
  dataRecordEncodingLength,
  defineTemplate,
  encodeDataRecord,
  encodeFieldSpecifier,
  encodeMessage,
  encodeTemplateRecord,
  fieldSpecifier,
  fieldSpecifierEncodingLength,
  messageEncodingLength,
  templateRecordEncodingLength,
  type IpfixMessage,
  type TemplateDefinition,
} from '../../src/adapters/ipfix/ipfix-message.encoder.js';
import {
  decodeDataRecords,
  decodeMessage,
  decodeTemplateRecords,
  ianaResolver,
  type DecodedMessage,
} from '../../src/adapters/ipfix/ipfix-message.decoder.js';
import { describedElements, typeRecordTemplate } from '../../src/adapters/ipfix/type-records.js';
import type { FieldValue } from '../../src/adapters/ipfix/field-value.codec.js';
import { expectRoundTrip, hex } from './round-trip.helper.js';

const ENTERPRISE_ID = 32473;
const registry = exporterRegistry(ENTERPRISE_ID);
const resolveAll = ianaResolver(registry);
type Row = Record<string, FieldValue>;

/** A template whose values are read from plain objects keyed by element name. */
function rowTemplate(templateId: number, names: string[], scopeFieldCount = 0) {
  return defineTemplate<Row>(templateId, names.map((name) => ({ element: registry.byName(name), read: (row: Row) => row[name] })), scopeFieldCount);
}

describe('IPFIX template records (RFC 7011 §3.2, §3.4)', () => {
  it('sets the enterprise bit and appends the enterprise number (golden bytes)', () => {
    const specifier = fieldSpecifier(registry.byName('sourcePodName'));
    const buf = Buffer.alloc(fieldSpecifierEncodingLength(specifier));
    expect(encodeFieldSpecifier(specifier, buf, 0)).toBe(8);
    // id 1 | E bit = 0x8001, length 65535 (variable), enterprise 32473 = 0x7ed9
    expect(buf).toEqual(hex('8001 ffff 00007ed9'));
    const iana = fieldSpecifier(registry.byName('octetDeltaCount'));
    const ianaBuf = Buffer.alloc(fieldSpecifierEncodingLength(iana));
    encodeFieldSpecifier(iana, ianaBuf, 0);
    expect(ianaBuf).toEqual(hex('0001 0008'));
  });

  const templateCodec = (options: boolean) => ({
    encodingLength: templateRecordEncodingLength,
    encode: encodeTemplateRecord,
    decode: (buf: Buffer, start: number, end: number) => decodeTemplateRecords(buf, start, end, options)[0],
  });

  it('round-trips a template with IANA and enterprise fields', () => {
    const template = rowTemplate(300, ['sourceIPv4Address', 'octetDeltaCount', 'sourcePodName', 'observerNodeName']).definition;
    const bytes = expectRoundTrip(templateCodec(false), template);
    expect(bytes).toEqual(hex('012c 0004  0008 0004  0001 0008  8001 ffff 00007ed9  8013 ffff 00007ed9'));
  });

  it('round-trips an options template with its scope field count (never 0)', () => {
    const template = typeRecordTemplate(registry).definition;
    expect(template.scopeFieldCount).toBe(2);
    const bytes = expectRoundTrip(templateCodec(true), template);
    // id 400, 9 fields, 2 scope fields, first scope field privateEnterpriseNumber (346) u32
    expect(bytes.subarray(0, 10)).toEqual(hex('0190 0009 0002 015a 0004'));
  });

  it('round-trips data records with fixed and variable-length fields', () => {
    const template = rowTemplate(301, ['sourceIPv6Address', 'sourceTransportPort', 'packetDeltaCount', 'interfaceName', 'sourcePodName', 'destinationPodName']);
    const codec = {
      encodingLength: (row: Row) => dataRecordEncodingLength(template, row),
      encode: (row: Row, buf: Buffer, offset: number) => encodeDataRecord(template, row, buf, offset, buf.length),
      decode: (buf: Buffer, start: number, end: number) => decodeDataRecords(template.definition, resolveAll, buf, start, end)[0],
    };
    const row: Row = {
      sourceIPv6Address: 'fd00:10:244:1::17',
      sourceTransportPort: 8080,
      packetDeltaCount: 2 ** 33,
      interfaceName: 'eth0',
      sourcePodName: 'p'.repeat(400),
      destinationPodName: '',
    };
    const bytes = expectRoundTrip(codec, row);
    expect(bytes.length).toBe(16 + 2 + 8 + 5 + 403 + 1);
    expect(bytes.subarray(26, 31)).toEqual(hex('04 65746830'));
    expect(bytes.subarray(31, 34)).toEqual(hex('ff 0190'));
  });

  it('round-trips RFC 5610 type records describing every enterprise element', () => {
    const template = typeRecordTemplate(registry);
    const elements = describedElements(registry);
    expect(elements).toHaveLength(ENTERPRISE_ELEMENT_DEFINITIONS.length);
    const buf = Buffer.alloc(elements.reduce((sum, element) => sum + dataRecordEncodingLength(template, element), 0));
    let offset = 0;
    for (const element of elements) offset = encodeDataRecord(template, element, buf, offset, buf.length);
    expect(offset).toBe(buf.length);
    const records = decodeDataRecords(template.definition, ianaResolver(IANA_REGISTRY), buf, 0, buf.length);
    expect(records).toEqual(
      elements.map((element) => ({
        privateEnterpriseNumber: ENTERPRISE_ID,
        informationElementId: element.id,
        informationElementDataType: DataTypeCode[element.type],
        informationElementSemantics: ElementSemantics[element.semantics ?? 'default'],
        informationElementUnits: ElementUnits[element.units ?? 'none'],
        informationElementRangeBegin: 0,
        informationElementRangeEnd: 0,
        informationElementName: element.name,
        informationElementDescription: element.description,
      })),
    );
  });
});

describe('IPFIX messages (RFC 7011 §3.1, §3.3)', () => {
  const flowTemplate = rowTemplate(256, ['sourceIPv4Address', 'destinationIPv4Address', 'protocolIdentifier', 'sourcePodName']);
  const optionsTemplate = rowTemplate(257, ['privateEnterpriseNumber', 'informationElementId', 'informationElementName'], 2);
  const message: IpfixMessage<Row> = {
    header: { exportTime: 1_767_225_600, sequenceNumber: 42, observationDomainId: 7 },
    sets: [
      { kind: 'templates', templates: [flowTemplate.definition] },
      { kind: 'optionsTemplates', templates: [optionsTemplate.definition] },
      {
        kind: 'data',
        template: flowTemplate,
        records: [
          { sourceIPv4Address: '10.0.0.1', destinationIPv4Address: '10.0.0.2', protocolIdentifier: 17, sourcePodName: 'dns-0' },
          { sourceIPv4Address: '10.0.0.3', destinationIPv4Address: '10.0.0.4', protocolIdentifier: 6, sourcePodName: '' },
        ],
      },
      { kind: 'data', template: optionsTemplate, records: [{ privateEnterpriseNumber: 32473, informationElementId: 1, informationElementName: 'sourcePodName' }] },
    ],
  };
  const expected: DecodedMessage = {
    header: message.header,
    sets: message.sets.map((set) =>
      set.kind === 'data' ? { kind: 'data', templateId: set.template.definition.templateId, records: [...set.records] } : { kind: set.kind, templates: [...set.templates] as TemplateDefinition[] },
    ),
  };

  it('round-trips a message with template, options template and data sets', () => {
    const codec = {
      encodingLength: messageEncodingLength<Row>,
      encode: encodeMessage<Row>,
      decode: (buf: Buffer, start: number, end: number) => decodeMessage(buf.subarray(start, end), new Map(), resolveAll),
    };
    const bytes = expectRoundTrip(codec, message, expected);
    // version 10, length, export time, sequence 42, domain 7
    expect(bytes.subarray(0, 16)).toEqual(Buffer.concat([hex('000a'), hex(bytes.length.toString(16).padStart(4, '0')), hex('6955b900 0000002a 00000007')]));
    // first set: template set (id 2)
    expect(bytes.readUInt16BE(16)).toBe(2);
  });
});
