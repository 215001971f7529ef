/**
 * A time series drawn with uPlot, in the page's colours (read from its custom properties, so it
 * follows light and dark), sized to its container. The canvas is hidden from assistive
 * technology; its text alternative is the caption, a one-line summary per series (latest, lowest,
 * highest) and the numbers themselves in a collapsed table.
 */
import { For, createEffect, onCleanup, onMount } from 'solid-js';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { num } from '../format';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
}

const COLOURS = ['--accent', '--good', '--fair', '--danger', '--muted'];
const HEIGHT = 220;

export function Chart(props: { title: string; t: number[]; series: ChartSeries[]; testid: string }) {
  let box!: HTMLDivElement;
  let plot: uPlot | null = null;
  const css = (v: string) => getComputedStyle(box).getPropertyValue(v).trim() || '#888';

  function build() {
    plot?.destroy();
    const axis = { stroke: css('--muted'), grid: { stroke: css('--line'), width: 1 }, ticks: { stroke: css('--line') } };
    plot = new uPlot(
      {
        width: Math.max(box.clientWidth, 200),
        height: HEIGHT,
        legend: { show: false },
        cursor: { show: false },
        axes: [axis, axis],
        series: [{}, ...props.series.map((s, i) => ({ label: s.label, stroke: css(COLOURS[i % COLOURS.length]!), width: 2 }))],
      },
      [props.t, ...props.series.map((s) => s.values)],
      box,
    );
  }

  onMount(() => {
    build();
    const resize = new ResizeObserver(() => plot?.setSize({ width: Math.max(box.clientWidth, 200), height: HEIGHT }));
    resize.observe(box);
    const scheme = matchMedia('(prefers-color-scheme: dark)');
    const rebuild = () => build();
    scheme.addEventListener('change', rebuild);
    onCleanup(() => {
      resize.disconnect();
      scheme.removeEventListener('change', rebuild);
      plot?.destroy();
    });
  });
  // New numbers: same chart, new data (no rebuild, so no flicker every poll).
  createEffect(() => plot?.setData([props.t, ...props.series.map((s) => s.values)]));

  const summary = (s: ChartSeries) => {
    const v = s.values.filter((x): x is number => x !== null);
    if (v.length === 0) return `${s.label}: no data yet.`;
    return `${s.label}: now ${num(v[v.length - 1])}, lowest ${num(Math.min(...v))}, highest ${num(Math.max(...v))}.`;
  };

  return (
    <figure class="chart card" data-testid={props.testid}>
      <figcaption>{props.title}</figcaption>
      <ul class="chart-legend" data-testid={`${props.testid}-summary`}>
        <For each={props.series}>
          {(s, i) => (
            <li>
              <span class={`swatch swatch-${i() % COLOURS.length}`} aria-hidden="true" />
              {summary(s)}
            </li>
          )}
        </For>
      </ul>
      <div class="chart-canvas" ref={box} aria-hidden="true" />
      <details>
        <summary>Numbers for this chart</summary>
        <div class="table-wrap" tabindex="0" role="region" aria-label={`Numbers: ${props.title}`}>
          <table>
            <caption class="sr-only">{props.title}</caption>
            <thead>
              <tr>
                <th scope="col">Minute</th>
                <For each={props.series}>{(s) => <th scope="col">{s.label}</th>}</For>
              </tr>
            </thead>
            <tbody>
              <For each={props.t}>
                {(t, i) => (
                  <tr>
                    <th scope="row">{new Date(t * 1000).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' })}</th>
                    <For each={props.series}>{(s) => <td>{num(s.values[i()])}</td>}</For>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
