/** A labelled drop-down, as the console's filter and form rows show it. */

/**
 * `<label>` with the text `label` around a `<select>` named `label`, one
 * `<option>` per entry of `options` (`text` shown, `value` chosen; values are
 * unique).
 */
export function SelectFilter(props: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  options: ReadonlyArray<{ value: string; text: string }>;
}) {
  return (
    <label className="opskit-field">
      {props.label}
      <select
        aria-label={props.label}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
      >
        {props.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.text}
          </option>
        ))}
      </select>
    </label>
  );
}
