import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { elementDocumentJson, elementDocumentMarkdown } from '../../src/adapters/ipfix/information-elements.doc.js';
import { ENTERPRISE_ELEMENT_DEFINITIONS, exporterRegistry, IANA_ELEMENTS } from '../../src/adapters/ipfix/information-elements.js';

const docs = join(__dirname, '..', '..', 'docs');

describe('published IPFIX element table', () => {
  it('docs/ipfix-elements.json is the registry (regenerate: cli.ts ipfix-elements --format json)', () => {
    expect(readFileSync(join(docs, 'ipfix-elements.json'), 'utf8')).toBe(elementDocumentJson());
    const published = JSON.parse(readFileSync(join(docs, 'ipfix-elements.json'), 'utf8'));
    expect(published.elements.map((row: { enterpriseId: number; id: number; name: string; type: string }) => [row.enterpriseId, row.id, row.name, row.type])).toEqual(
      exporterRegistry(32473).elements.map((element) => [element.enterpriseId, element.id, element.name, element.type]),
    );
  });

  it('docs/ipfix-elements.md is the registry (regenerate: cli.ts ipfix-elements --format markdown)', () => {
    const markdown = readFileSync(join(docs, 'ipfix-elements.md'), 'utf8');
    expect(markdown).toBe(elementDocumentMarkdown());
    for (const element of [...IANA_ELEMENTS, ...ENTERPRISE_ELEMENT_DEFINITIONS]) expect(markdown).toContain(`| ${element.id} | ${element.name} | ${element.type} |`);
  });

  it('keeps enterprise element ids stable: they are only ever added', () => {
    expect(ENTERPRISE_ELEMENT_DEFINITIONS.slice(0, 19).map((element) => [element.id, element.name])).toEqual([
      [1, 'sourcePodName'], [2, 'sourcePodNamespace'], [3, 'sourceNodeName'], [4, 'sourceContainerName'], [5, 'sourceServiceName'],
      [6, 'sourceServiceNamespace'], [7, 'sourceServicePortName'], [8, 'sourceWorkloadKind'], [9, 'sourceWorkloadName'],
      [10, 'destinationPodName'], [11, 'destinationPodNamespace'], [12, 'destinationNodeName'], [13, 'destinationContainerName'],
      [14, 'destinationServiceName'], [15, 'destinationServiceNamespace'], [16, 'destinationServicePortName'],
      [17, 'destinationWorkloadKind'], [18, 'destinationWorkloadName'], [19, 'observerNodeName'],
    ]);
    expect(() => exporterRegistry(32473)).not.toThrow();
  });
});
