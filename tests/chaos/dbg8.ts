import { Inspector } from './lib/inspector';
import { redisKilledAof } from './scenarios/redis';
const orig = Inspector.prototype.transitions;
let dump = '';
Inspector.prototype.transitions = async function () {
  const r = await orig.call(this);
  const dups = await this.query<Record<string, unknown>>(`select t.event_id, t.user_id, t.version, t.from_state, t.to_state, t.reason, t.match_id, t.actor, (extract(epoch from t.at)*1000)::bigint as at from state_transitions t join (select user_id, version from state_transitions group by 1,2 having count(*)>1) d using (user_id, version) order by t.at`);
  if (dups.length) {
    const ats = dups.map((d) => d.at as string);
    const around = await this.query<Record<string, unknown>>(`select event_id, user_id, version, from_state, to_state, reason, match_id, (extract(epoch from at)*1000)::bigint as at from state_transitions where (extract(epoch from at)*1000)::bigint in (${ats.join(',')}) order by event_id`);
    const matches = await this.query<Record<string, unknown>>(`select * from matches where match_id in (${[...new Set(dups.map((d) => `'${String(d.match_id)}'`))].join(',')})`).catch((e: unknown) => [String(e)]);
    dump = JSON.stringify({ dups, around, matches }, null, 1);
  }
  return r;
};
for (let i = 0; i < 8 && !dump; i++) {
  const r = await redisKilledAof({ durationScale: 0.1, users: 12 });
  console.error(i, r.recoveryMs, r.duplicated);
}
console.log(dump);
process.exit(0);
