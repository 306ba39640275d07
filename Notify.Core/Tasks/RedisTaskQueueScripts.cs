namespace Notify.Core.Tasks;

/// <summary>
/// The Lua scripts behind <see cref="RedisTaskQueue"/>: each state change is one script, so it is
/// atomic and its frame is published in the same step. Keys are built inside the scripts from the
/// prefix in ARGV[1]; each script declares one key built from it (<c>stats</c>) so a Redis Cluster runs it
/// in the queue's slot, where the prefix's hash tag puts every other queue key as well.
/// Layout: <c>task:{id}</c> hash; <c>uq:{user}</c> zset of the user's queued task ids by sequence;
/// <c>users</c> zset of users with queued tasks, scored by their oldest task's sequence (so the first
/// eligible user holds the oldest eligible task); <c>running</c> zset of task ids by lease deadline;
/// <c>urun</c> hash user → running count; <c>stats</c> hash; <c>batch:{id}</c> hash and list;
/// <c>ufin:{user}</c> zset of the user's finished tasks (<c>task:{id}</c>) and batches (<c>batch:{id}</c>)
/// by finish time, trimmed to the per-user cap (the oldest are deleted) whenever one more finishes.
/// </summary>
internal static class RedisTaskQueueScripts
{
    private const string Prelude = """
        local p = ARGV[1]
        local function userDone(user)
          local c = redis.call('HINCRBY', p .. ':urun', user, -1)
          if c <= 0 then redis.call('HDEL', p .. ':urun', user) end
        end
        local function enqueueAt(id, user, seq)
          redis.call('ZADD', p .. ':uq:' .. user, seq, id)
          redis.call('ZADD', p .. ':users', 'LT', seq, user)
          redis.call('HINCRBY', p .. ':stats', 'queued', 1)
        end
        local function fixHead(user)
          local nxt = redis.call('ZRANGE', p .. ':uq:' .. user, 0, 0, 'WITHSCORES')
          if #nxt == 0 then redis.call('ZREM', p .. ':users', user) else redis.call('ZADD', p .. ':users', nxt[2], user) end
        end
        local function retire(user, member, nowMs, ttlMs, cap)
          local k = p .. ':ufin:' .. user
          redis.call('ZREMRANGEBYSCORE', k, '-inf', '(' .. (tonumber(nowMs) - tonumber(ttlMs)))
          local over = redis.call('ZCARD', k) - (tonumber(cap) - 1)
          if over > 0 then
            for _, m in ipairs(redis.call('ZRANGE', k, 0, over - 1)) do
              redis.call('DEL', p .. ':' .. m)
              if string.sub(m, 1, 5) == 'task:' then
                redis.call('DEL', p .. ':progress:' .. string.sub(m, 6))
              else
                redis.call('DEL', p .. ':' .. m .. ':tasks')
              end
            end
            redis.call('ZREMRANGEBYRANK', k, 0, over - 1)
          end
          redis.call('ZADD', k, nowMs, member)
          redis.call('PEXPIRE', k, ttlMs)
        end
        local function batchMove(batch, from, to, nowMs, ttlMs, cap)
          if not batch or batch == '' then return {0, 0, 0, 0, 0, 0, 0} end
          local bk = p .. ':batch:' .. batch
          if redis.call('EXISTS', bk) == 0 then return {0, 0, 0, 0, 0, 0, 0} end
          redis.call('HINCRBY', bk, from, -1)
          redis.call('HINCRBY', bk, to, 1)
          local c = redis.call('HMGET', bk, 'total', 'queued', 'running', 'completed', 'failed', 'cancelled')
          local fin = 0
          if tonumber(c[2]) == 0 and tonumber(c[3]) == 0 and redis.call('HSETNX', bk, 'finished', nowMs) == 1 then
            fin = 1
            redis.call('PEXPIRE', bk, ttlMs)
            redis.call('PEXPIRE', bk .. ':tasks', ttlMs)
            if cap then retire(redis.call('HGET', bk, 'user'), 'batch:' .. batch, nowMs, ttlMs, cap) end
          end
          return {c[1], c[2], c[3], c[4], c[5], c[6], fin}
        end
        local function result(code, id, user, kind, status, attempts, err, batch, bc)
          return {code, id, user or '', kind or '', status or '', tonumber(attempts or 0), err or '', batch or '',
            tonumber(bc[1] or 0), tonumber(bc[2] or 0), tonumber(bc[3] or 0), tonumber(bc[4] or 0), tonumber(bc[5] or 0), tonumber(bc[6] or 0), bc[7] or 0}
        end
        local function finish(key, id, user, status, err, nowMs, ttlMs, cap)
          redis.call('HSET', key, 'status', status, 'finished', nowMs, 'error', err)
          redis.call('HDEL', key, 'lease', 'deadline', 'worker', 'params')
          redis.call('PEXPIRE', key, ttlMs)
          redis.call('HINCRBY', p .. ':stats', status, 1)
          retire(user, 'task:' .. id, nowMs, ttlMs, cap)
        end

        """;

    /// <summary>
    /// ARGV: prefix, user, kind, batch id or '', now ms, snapshot TTL ms, max queued per user, max queued
    /// total, n, then n × (id, params, snapshot). Returns 1, or -1 (user cap) / -2 (total cap).
    /// </summary>
    public const string Enqueue = Prelude + """
        local user = ARGV[2]
        local n = tonumber(ARGV[9])
        local uq = p .. ':uq:' .. user
        if redis.call('ZCARD', uq) + n > tonumber(ARGV[7]) then return -1 end
        if tonumber(redis.call('HGET', p .. ':stats', 'queued') or '0') + n > tonumber(ARGV[8]) then return -2 end
        local batch = ARGV[4]
        local first = nil
        for i = 0, n - 1 do
          local id = ARGV[10 + i * 3]
          local seq = redis.call('INCR', p .. ':seq')
          if first == nil then first = seq end
          redis.call('HSET', p .. ':task:' .. id, 'id', id, 'user', user, 'kind', ARGV[3], 'params', ARGV[11 + i * 3],
            'status', 'queued', 'batch', batch, 'attempts', 0, 'seq', seq, 'created', ARGV[5], 'pct', 0)
          redis.call('ZADD', uq, seq, id)
          redis.call('SET', p .. ':progress:' .. id, ARGV[12 + i * 3], 'PX', ARGV[6])
          if batch ~= '' then redis.call('RPUSH', p .. ':batch:' .. batch .. ':tasks', id) end
        end
        redis.call('ZADD', p .. ':users', 'NX', first, user)
        if batch ~= '' then
          redis.call('HSET', p .. ':batch:' .. batch, 'id', batch, 'user', user, 'kind', ARGV[3], 'total', n, 'queued', n,
            'running', 0, 'completed', 0, 'failed', 0, 'cancelled', 0, 'created', ARGV[5])
        end
        redis.call('HINCRBY', p .. ':stats', 'queued', n)
        redis.call('PUBLISH', p .. ':wake', n)
        return 1
        """;

    /// <summary>
    /// ARGV: prefix, worker id, max, per-user limit, global limit, now ms, visibility ms, token base,
    /// finished TTL ms. Returns one array per leased task: id, token, user, attempts, kind, params,
    /// batch, created, started, deadline, then the batch counts (total, queued, running, completed,
    /// failed, cancelled).
    /// </summary>
    public const string Dequeue = Prelude + """
        local running = redis.call('ZCARD', p .. ':running')
        local slots = math.min(tonumber(ARGV[3]), tonumber(ARGV[5]) - running)
        local perUser = tonumber(ARGV[4])
        local now = ARGV[6]
        local deadline = tonumber(now) + tonumber(ARGV[7])
        local usersKey = p .. ':users'
        local out = {}
        local blocked = {}
        while slots > 0 do
          local found = nil
          local offset = 0
          while found == nil do
            local chunk = redis.call('ZRANGE', usersKey, offset, offset + 63)
            if #chunk == 0 then break end
            for _, u in ipairs(chunk) do
              if not blocked[u] then
                if tonumber(redis.call('HGET', p .. ':urun', u) or '0') < perUser then
                  found = u
                  break
                end
                blocked[u] = true
              end
            end
            offset = offset + 64
          end
          if found == nil then break end
          local head = redis.call('ZPOPMIN', p .. ':uq:' .. found)
          if #head > 0 then
            local id = head[1]
            local key = p .. ':task:' .. id
            local attempts = redis.call('HINCRBY', key, 'attempts', 1)
            local token = ARGV[8] .. ':' .. attempts
            redis.call('HSETNX', key, 'started', now)
            redis.call('HSET', key, 'status', 'running', 'lease', token, 'worker', ARGV[2], 'deadline', deadline)
            redis.call('ZADD', p .. ':running', deadline, id)
            redis.call('HINCRBY', p .. ':urun', found, 1)
            redis.call('HINCRBY', p .. ':stats', 'queued', -1)
            local f = redis.call('HMGET', key, 'kind', 'params', 'batch', 'created', 'started')
            local bc = batchMove(f[3], 'queued', 'running', now, ARGV[9])
            out[#out + 1] = {id, token, found, attempts, f[1], f[2], f[3], f[4], f[5], deadline, bc[1], bc[2], bc[3], bc[4], bc[5], bc[6]}
            slots = slots - 1
          end
          fixHead(found)
        end
        return out
        """;

    /// <summary>ARGV: prefix, now ms, visibility ms, then (id, token) pairs. Returns 0 lost / 1 held / 2 cancel requested per pair.</summary>
    public const string Renew = Prelude + """
        local deadline = tonumber(ARGV[2]) + tonumber(ARGV[3])
        local out = {}
        for i = 4, #ARGV, 2 do
          local key = p .. ':task:' .. ARGV[i]
          local f = redis.call('HMGET', key, 'lease', 'status', 'cancel')
          if f[1] == ARGV[i + 1] and f[2] == 'running' then
            redis.call('HSET', key, 'deadline', deadline)
            redis.call('ZADD', p .. ':running', 'XX', deadline, ARGV[i])
            if f[3] == '1' then out[#out + 1] = 2 else out[#out + 1] = 1 end
          else
            out[#out + 1] = 0
          end
        end
        return out
        """;

    /// <summary>
    /// ARGV: prefix, id, token, progress, snapshot, snapshot TTL ms, frame, channel, now ms, visibility ms.
    /// Returns 0 lost, 1 held, 2 cancel requested, 3 held but not published (lower than the last progress).
    /// </summary>
    public const string Progress = Prelude + """
        local id = ARGV[2]
        local key = p .. ':task:' .. id
        local f = redis.call('HMGET', key, 'lease', 'status', 'cancel', 'pct')
        if f[1] ~= ARGV[3] or f[2] ~= 'running' then return 0 end
        local deadline = tonumber(ARGV[9]) + tonumber(ARGV[10])
        redis.call('HSET', key, 'deadline', deadline)
        redis.call('ZADD', p .. ':running', 'XX', deadline, id)
        if tonumber(ARGV[4]) < tonumber(f[4] or '0') then return 3 end
        redis.call('HSET', key, 'pct', ARGV[4])
        redis.call('SET', p .. ':progress:' .. id, ARGV[5], 'PX', ARGV[6])
        redis.call('PUBLISH', ARGV[8], ARGV[7])
        if f[3] == '1' then return 2 end
        return 1
        """;

    /// <summary>
    /// ARGV: prefix, id, token, outcome, error, result, now ms, max attempts, retryable, finished TTL ms,
    /// snapshot TTL ms, channel, then (snapshot, frame) for: the outcome, cancelled, requeued; then the
    /// most finished tasks and batches kept per user.
    /// Returns the transition (see <c>result</c>): code 0 none, 1 requeued, 2 finished.
    /// </summary>
    public const string Ack = Prelude + """
        local id = ARGV[2]
        local key = p .. ':task:' .. id
        local f = redis.call('HMGET', key, 'lease', 'status', 'user', 'kind', 'batch', 'attempts', 'cancel')
        if f[1] ~= ARGV[3] or f[2] ~= 'running' then return result(0, id, f[3], f[4], f[2], f[6], '', f[5], {}) end
        local now = ARGV[7]
        redis.call('ZREM', p .. ':running', id)
        userDone(f[3])
        redis.call('PUBLISH', p .. ':wake', 'ack')
        local outcome = ARGV[4]
        local snap, frame = ARGV[13], ARGV[14]
        if outcome == 'failed' and f[7] == '1' then
          outcome = 'cancelled'
          snap, frame = ARGV[15], ARGV[16]
        end
        if outcome == 'failed' and ARGV[9] == '1' and tonumber(f[6]) < tonumber(ARGV[8]) then
          local seq = redis.call('INCR', p .. ':seq')
          redis.call('HSET', key, 'status', 'queued', 'seq', seq, 'error', ARGV[5])
          redis.call('HDEL', key, 'lease', 'deadline', 'worker')
          enqueueAt(id, f[3], seq)
          redis.call('SET', p .. ':progress:' .. id, ARGV[17], 'PX', ARGV[11])
          redis.call('PUBLISH', ARGV[12], ARGV[18])
          local bc = batchMove(f[5], 'running', 'queued', now, ARGV[10])
          return result(1, id, f[3], f[4], 'queued', f[6], ARGV[5], f[5], bc)
        end
        if outcome == 'completed' then
          redis.call('HSET', key, 'result', ARGV[6], 'pct', 100)
        end
        finish(key, id, f[3], outcome, ARGV[5], now, ARGV[10], ARGV[19])
        redis.call('SET', p .. ':progress:' .. id, snap, 'PX', ARGV[11])
        redis.call('PUBLISH', ARGV[12], frame)
        local bc = batchMove(f[5], 'running', outcome, now, ARGV[10], ARGV[19])
        return result(2, id, f[3], f[4], outcome, f[6], ARGV[5], f[5], bc)
        """;

    /// <summary>ARGV: prefix, id, token, snapshot TTL ms, channel, snapshot, frame, finished TTL ms, now ms. Returns the transition.</summary>
    public const string Release = Prelude + """
        local id = ARGV[2]
        local key = p .. ':task:' .. id
        local f = redis.call('HMGET', key, 'lease', 'status', 'user', 'kind', 'batch', 'attempts', 'seq')
        if f[1] ~= ARGV[3] or f[2] ~= 'running' then return result(0, id, f[3], f[4], f[2], f[6], '', f[5], {}) end
        redis.call('ZREM', p .. ':running', id)
        userDone(f[3])
        local attempts = redis.call('HINCRBY', key, 'attempts', -1)
        redis.call('HSET', key, 'status', 'queued')
        redis.call('HDEL', key, 'lease', 'deadline', 'worker')
        enqueueAt(id, f[3], tonumber(f[7]))
        redis.call('SET', p .. ':progress:' .. id, ARGV[6], 'PX', ARGV[4])
        redis.call('PUBLISH', ARGV[5], ARGV[7])
        redis.call('PUBLISH', p .. ':wake', 'release')
        local bc = batchMove(f[5], 'running', 'queued', ARGV[9], ARGV[8])
        return result(1, id, f[3], f[4], 'queued', attempts, '', f[5], bc)
        """;

    /// <summary>
    /// ARGV: prefix, id, now ms, finished TTL ms, snapshot TTL ms, channel, snapshot, frame, most finished kept per user.
    /// Returns the transition: 2 cancelled (was queued), 3 cancel requested (running), 0 otherwise.
    /// </summary>
    public const string Cancel = Prelude + """
        local id = ARGV[2]
        local key = p .. ':task:' .. id
        local f = redis.call('HMGET', key, 'status', 'user', 'kind', 'batch', 'attempts')
        if not f[1] then return result(0, id, false, false, false, 0, '', false, {}) end
        if f[1] == 'queued' then
          redis.call('ZREM', p .. ':uq:' .. f[2], id)
          fixHead(f[2])
          redis.call('HINCRBY', p .. ':stats', 'queued', -1)
          finish(key, id, f[2], 'cancelled', 'cancelled', ARGV[3], ARGV[4], ARGV[9])
          redis.call('SET', p .. ':progress:' .. id, ARGV[7], 'PX', ARGV[5])
          redis.call('PUBLISH', ARGV[6], ARGV[8])
          local bc = batchMove(f[4], 'queued', 'cancelled', ARGV[3], ARGV[4], ARGV[9])
          return result(2, id, f[2], f[3], 'cancelled', f[5], 'cancelled', f[4], bc)
        end
        if f[1] == 'running' then
          redis.call('HSET', key, 'cancel', 1)
          redis.call('PUBLISH', p .. ':cancel', id)
          return result(3, id, f[2], f[3], 'running', f[5], '', f[4], {})
        end
        return result(0, id, f[2], f[3], f[1], f[5], '', f[4], {})
        """;

    /// <summary>
    /// ARGV: prefix, id, now ms, max attempts, finished TTL ms, snapshot TTL ms, channel, error,
    /// requeued (snapshot, frame), failed (snapshot, frame), most finished kept per user. Acts only while
    /// the lease is still expired.
    /// </summary>
    public const string RecoverOne = Prelude + """
        local id = ARGV[2]
        local now = ARGV[3]
        local score = redis.call('ZSCORE', p .. ':running', id)
        if not score or tonumber(score) > tonumber(now) then return result(0, id, false, false, false, 0, '', false, {}) end
        local key = p .. ':task:' .. id
        local f = redis.call('HMGET', key, 'status', 'user', 'kind', 'batch', 'attempts', 'seq', 'cancel')
        redis.call('ZREM', p .. ':running', id)
        if f[1] ~= 'running' then return result(0, id, f[2], f[3], f[1], f[5], '', f[4], {}) end
        userDone(f[2])
        redis.call('PUBLISH', p .. ':wake', 'recover')
        if tonumber(f[5]) < tonumber(ARGV[4]) and f[7] ~= '1' then
          redis.call('HSET', key, 'status', 'queued', 'error', ARGV[8])
          redis.call('HDEL', key, 'lease', 'deadline', 'worker')
          enqueueAt(id, f[2], tonumber(f[6]))
          redis.call('SET', p .. ':progress:' .. id, ARGV[9], 'PX', ARGV[6])
          redis.call('PUBLISH', ARGV[7], ARGV[10])
          local bc = batchMove(f[4], 'running', 'queued', now, ARGV[5])
          return result(1, id, f[2], f[3], 'queued', f[5], ARGV[8], f[4], bc)
        end
        local status = 'failed'
        if f[7] == '1' then status = 'cancelled' end
        finish(key, id, f[2], status, ARGV[8], now, ARGV[5], ARGV[13])
        redis.call('SET', p .. ':progress:' .. id, ARGV[11], 'PX', ARGV[6])
        redis.call('PUBLISH', ARGV[7], ARGV[12])
        local bc = batchMove(f[4], 'running', status, now, ARGV[5], ARGV[13])
        return result(2, id, f[2], f[3], status, f[5], ARGV[8], f[4], bc)
        """;
}
