import { ENTERPRISE_ELEMENT_DEFINITIONS, exporterRegistry } from '../../src/adapters/ipfix/information-elements.js';
import { FlowTemplates, type FlowExportRow } from '../../src/adapters/ipfix/flow-templates.js';
import { IpfixDecoder } from '../../src/adapters/ipfix/ipfix-message.decoder.js';
import { MessagePacker, type PackedMessage } from '../../src/adapters/ipfix/ipfix-message.packer.js';
import { describedElements, typeRecordTemplate } from '../../src/adapters/ipfix/type-records.js';
import type { InformationElement } from '../../src/adapters/ipfix/information-elements.js';
import { enrichedFlow } from '../support/flow-fixtures.js';
import { hex } from './round-trip.helper.js';

const ENTERPRISE_ID = 32473;
const registry = exporterRegistry(ENTERPRISE_ID);
const templates = new FlowTemplates(registry);
const exporter = Object.freeze({ address: '192.0.2.10', observerNodeName: 'node-a' });

function flowMessages(count: number, inline: boolean, domain = 1): PackedMessage[] {
  const packer = new MessagePacker<FlowExportRow>({ maxMessageSize: 1400, observationDomainId: domain });
  packer.begin(1_767_225_700);
  for (let index = 0; index < count; index++) {
    packer.addRecord(templates.templateFor(4, 0, 4), { flow: enrichedFlow({ packets: index + 1 }), exporter }, inline);
  }
  return packer.finish();
}

function typeRecordMessages(domain = 2): PackedMessage[] {
  const packer = new MessagePacker<InformationElement>({ maxMessageSize: 1400, observationDomainId: domain });
  const template = typeRecordTemplate(registry);
  packer.begin(1_767_225_700);
  for (const element of describedElements(registry)) packer.addRecord(template, element, true);
  return packer.finish();
}

/** Stamps sequence numbers the way an exporter session does. */
function stamp(messages: PackedMessage[], first = 0): Buffer[] {
  let sequence = first;
  return messages.map((message) => {
    const buffer = Buffer.from(message.buffer);
    buffer.writeUInt32BE(sequence, 8);
    sequence += message.dataRecords;
    return buffer;
  });
}

describe('IpfixDecoder', () => {
  it('names enterprise fields from RFC 5610 type records, else as "pen/id"', () => {
    const withoutTypes = new IpfixDecoder();
    const [record] = stamp(flowMessages(1, true)).flatMap((message) => withoutTypes.decode(message, '192.0.2.10:40000').records);
    expect(record.fields.sourceIPv4Address).toBe('10.244.1.17');
    expect(record.fields[`${ENTERPRISE_ID}/1`]).toEqual(new Uint8Array(Buffer.from('checkout-frontend-7d9f8b6c5d-x2k9p')));

    const withTypes = new IpfixDecoder();
    const typeRecords = stamp(typeRecordMessages()).flatMap((message) => withTypes.decode(message, '192.0.2.10:40000').records);
    expect(typeRecords).toHaveLength(ENTERPRISE_ELEMENT_DEFINITIONS.length);
    expect(typeRecords.every((typeRecord) => typeRecord.domain === 2)).toBe(true);
    const [named] = stamp(flowMessages(1, true)).flatMap((message) => withTypes.decode(message, '192.0.2.10:40000').records);
    expect(named.fields.sourcePodName).toBe('checkout-frontend-7d9f8b6c5d-x2k9p');
    expect(named.fields.observerNodeName).toBe('node-a');
    // Types learned from one exporter do not name another exporter's fields.
    const [other] = stamp(flowMessages(1, true)).flatMap((message) => withTypes.decode(message, '192.0.2.99:40000').records);
    expect(other.fields.sourcePodName).toBeUndefined();
  });

  it('keeps templates per exporter address and port, observation domain and template id', () => {
    const decoder = new IpfixDecoder(registry);
    const [withTemplate] = stamp(flowMessages(1, true, 1));
    const [withoutTemplate] = stamp(flowMessages(1, false, 1));
    expect(decoder.decode(withTemplate, '192.0.2.10:40000').records).toHaveLength(1);
    expect(decoder.decode(withoutTemplate, '192.0.2.10:40000').records).toHaveLength(1);
    for (const [exporterKey, message] of [['192.0.2.10:40001', withoutTemplate], ['192.0.2.10:40000', stamp(flowMessages(1, false, 5))[0]]] as const) {
      const result = decoder.decode(message, exporterKey);
      expect(result.records).toEqual([]);
      expect(result.problems.map((problem) => problem.reason)).toEqual(['missing_template']);
    }
    expect(decoder.stats.problems.get('missing_template')).toBe(2);
  });

  it('counts sequence numbers that do not follow the records received', () => {
    const decoder = new IpfixDecoder(registry);
    const messages = stamp(flowMessages(12, true));
    for (const message of messages) decoder.decode(message, 'e:1');
    expect(decoder.stats.sequenceErrors).toBe(0);
    expect(decoder.stats.dataRecords).toBe(12);
    const [gap] = stamp(flowMessages(1, true), 100);
    decoder.decode(gap, 'e:1');
    expect(decoder.stats.sequenceErrors).toBe(1);
  });

  const valid = stamp(flowMessages(2, true))[0];
  const malformed: Array<[string, Buffer, string]> = [
    ['a datagram shorter than a header', hex('000a0010'), 'truncated_header'],
    ['NetFlow v9', Buffer.concat([hex('0009'), valid.subarray(2)]), 'bad_version'],
    ['a length beyond the datagram', Buffer.concat([hex('000a'), hex('ffff'), valid.subarray(4)]), 'bad_message_length'],
    ['a set overrunning the message', (() => { const b = Buffer.from(valid); b.writeUInt16BE(0xfff0, 18); return b; })(), 'bad_set_length'],
    ['a set length below 4', (() => { const b = Buffer.from(valid); b.writeUInt16BE(2, 18); return b; })(), 'bad_set_length'],
    ['a reserved set id', (() => { const b = Buffer.from(valid); b.writeUInt16BE(7, 16); return b; })(), 'reserved_set_id'],
    ['a template id below 256', (() => { const b = Buffer.from(valid); b.writeUInt16BE(12, 20); return b; })(), 'bad_template_id'],
    ['an options template with 0 scope fields', hex('000a 001e 00000000 00000000 00000001  0003 000e 0190 0001 0000 0004 0001'), 'bad_scope_count'],
  ];

  it.each(malformed)('reports %s as a counted problem without throwing', (_name, datagram, reason) => {
    const decoder = new IpfixDecoder(registry);
    const result = decoder.decode(datagram, 'e:1');
    expect(result.records).toEqual([]);
    expect(result.problems.map((problem) => problem.reason)).toEqual([reason]);
    expect(decoder.stats.problems.get(reason)).toBe(1);
  });

  it('reports a variable-length field that overruns its set', () => {
    const decoder = new IpfixDecoder(registry);
    const b = Buffer.from(valid);
    const dataSetStart = 16 + b.readUInt16BE(18);
    // The interfaceName length octet follows the fixed-length flow fields (see flow-templates.ts).
    const interfaceNameLength = dataSetStart + 4 + 4 + 4 + 2 + 2 + 1 + 5 * 8 + 2 + 2 + 2 + 1 + 4;
    expect(b[interfaceNameLength]).toBe('veth3a9c1f2e'.length);
    b[interfaceNameLength] = 254;
    const result = decoder.decode(b.subarray(0, dataSetStart + b.readUInt16BE(dataSetStart + 2)), 'e:1');
    expect(result.problems.map((problem) => problem.reason)).toEqual(['truncated_record']);
    // A message cut inside a record, its lengths consistent.
    const shortened = Buffer.from(valid.subarray(0, dataSetStart + 4 + 100));
    shortened.writeUInt16BE(shortened.length, 2);
    shortened.writeUInt16BE(104, dataSetStart + 2);
    expect(decoder.decode(shortened, 'e:1').problems.map((problem) => problem.reason)).toEqual(['truncated_record']);
  });

  it('survives random corruption of valid messages: every outcome is records or counted problems', () => {
    const decoder = new IpfixDecoder(registry);
    const sources = [...stamp(typeRecordMessages()), ...stamp(flowMessages(4, true))];
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let problems = 0;
    for (let round = 0; round < 2000; round++) {
      const datagram = Buffer.from(sources[round % sources.length]);
      const flips = 1 + Math.floor(random() * 4);
      for (let flip = 0; flip < flips; flip++) datagram[Math.floor(random() * datagram.length)] = Math.floor(random() * 256);
      const cut = random() < 0.3 ? datagram.subarray(0, Math.floor(random() * datagram.length)) : datagram;
      const result = decoder.decode(cut, 'fuzz:1');
      problems += result.problems.length;
    }
    expect(problems).toBeGreaterThan(0);
    expect([...decoder.stats.problems.values()].reduce((sum, count) => sum + count, 0)).toBe(problems);
  });
});
