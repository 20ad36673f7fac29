/**
 * The session and neuron-list fields of the launch and comparison forms: a session of the chosen
 * models and neurons as indices and ranges ("0-9,12", parsed by lib/neuron-spec.ts).
 */
export function NeuronFields(props: {
  sessions: readonly string[];
  session: string;
  onSession: (session: string) => void;
  neurons: string;
  onNeurons: (neurons: string) => void;
  /** the neuron list does not apply (a whole session is chosen) */
  neuronsDisabled?: boolean;
}) {
  return (
    <>
      <label>
        Session
        <select name="session" value={props.session} onChange={(e) => props.onSession(e.target.value)}>
          {props.sessions.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </label>
      <label>
        Neurons
        <input name="neurons" value={props.neurons} onChange={(e) => props.onNeurons(e.target.value)} disabled={props.neuronsDisabled} placeholder="0-9,12" />
      </label>
    </>
  );
}
