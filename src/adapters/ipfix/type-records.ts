import { DataTypeCode, ElementSemantics, ElementUnits, type InformationElement, type InformationElementRegistry } from './information-elements.js';
import { defineTemplate, type RecordTemplate } from './ipfix-message.encoder.js';

/** Template id of the RFC 5610 type-record options template (in its own observation domain). */
export const TYPE_RECORD_TEMPLATE_ID = 400;
/** RFC 5610 §3: ranges are 0–0 when the element has no meaningful range. */
const NO_RANGE = 0;

/**
 * RFC 5610 §3 information element type records: one options data record per
 * enterprise element, scoped by (privateEnterpriseNumber, informationElementId),
 * so collectors can name and type our elements without a definition file.
 */
export function typeRecordTemplate(registry: InformationElementRegistry): RecordTemplate<InformationElement> {
  const field = (name: string, read: (element: InformationElement) => number | string) => ({ element: registry.byName(name), read });
  return defineTemplate<InformationElement>(
    TYPE_RECORD_TEMPLATE_ID,
    [
      field('privateEnterpriseNumber', (element) => element.enterpriseId),
      field('informationElementId', (element) => element.id),
      field('informationElementDataType', (element) => DataTypeCode[element.type]),
      field('informationElementSemantics', (element) => ElementSemantics[element.semantics ?? 'default']),
      field('informationElementUnits', (element) => ElementUnits[element.units ?? 'none']),
      field('informationElementRangeBegin', () => NO_RANGE),
      field('informationElementRangeEnd', () => NO_RANGE),
      field('informationElementName', (element) => element.name),
      field('informationElementDescription', (element) => element.description),
    ],
    2,
  );
}

/** The elements that need type records: every non-IANA element of the registry. */
export function describedElements(registry: InformationElementRegistry): InformationElement[] {
  return registry.elements.filter((element) => element.enterpriseId !== 0);
}
