/** Language and region to be matched in ("Any" sends nothing: the global pool). */
import { For } from 'solid-js';
import { languageOptions, regionOptions, type PoolOption } from '../lib/pools';

function PoolSelect(props: { label: string; testId: string; options: PoolOption[]; value: string | null; onChange: (v: string | null) => void }) {
  return (
    <label>
      {props.label}
      <select data-testid={props.testId} value={props.value ?? ''} onChange={(e) => props.onChange(e.currentTarget.value || null)}>
        <option value="">Any</option>
        <For each={props.options}>{(o) => <option value={o.code}>{o.label}</option>}</For>
      </select>
    </label>
  );
}

export function PoolSelects(props: {
  language: string | null;
  region: string | null;
  onLanguage: (v: string | null) => void;
  onRegion: (v: string | null) => void;
}) {
  return (
    <div class="pool-selects">
      <PoolSelect label="Language" testId="language" options={languageOptions()} value={props.language} onChange={(v) => props.onLanguage(v)} />
      <PoolSelect label="Region" testId="region" options={regionOptions()} value={props.region} onChange={(v) => props.onRegion(v)} />
    </div>
  );
}
