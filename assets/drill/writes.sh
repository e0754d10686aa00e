# halab's numbered writer, run on a lab node by `halab drill` (bash -s WRITE EVERY_S TIMEOUT_S
# STOP_FILE MAX_S): runs the lesson's WRITE command with row numbers 1, 2, 3... one every EVERY_S
# seconds, each with its own timeout, until STOP_FILE exists (or MAX_S passed). Prints
# "N ok|fail UNIX_TIME" per write: "ok" means the write's command said it committed.
write=$1 every=$2 limit=$3 stop=$4 max_s=$5
end=$(( $(date +%s) + ${max_s%.*} ))
n=0
while [ ! -e "$stop" ] && [ "$(date +%s)" -lt "$end" ]; do
  n=$((n + 1))
  t=$(date +%s.%N)
  if timeout "$limit" bash -c "$write" halab-write "$n" >/dev/null 2>&1; then
    echo "$n ok $t"
  else
    echo "$n fail $t"
  fi
  sleep "$every"
done
