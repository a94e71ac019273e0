/** A labelled one-line text input, as the console's filter and form rows show it. */

/**
 * `<label>` with the text `label` around an `<input>` named `label` for
 * assistive technology (and for the browser walks' `getByLabel`).
 */
export function TextFilter(props: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  placeholder?: string;
  /** `"datetime-local"` for a time (with `step`, in seconds); text by default. */
  type?: "datetime-local";
  step?: number;
}) {
  return (
    <label className="opskit-field">
      {props.label}
      <input
        aria-label={props.label}
        type={props.type}
        step={props.step}
        value={props.value}
        placeholder={props.placeholder}
        onChange={(e) => props.onChange(e.target.value)}
      />
    </label>
  );
}
