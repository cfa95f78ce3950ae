-- Issue 13 goal 6 (bench/readmodel.py: 219,536 applications, 1,001,214 tasks). The public
-- performance page asks for the read model's data version on every request, cached report
-- or not (loket/store/performance.py data_version): max(updated_at) over applications and
-- tasks was a sequential scan of both (270 ms); with these each maximum is one index probe.
-- The price: an application row's update is no longer HOT (updated_at changes each batch).
CREATE INDEX applications_updated ON applications (updated_at);
CREATE INDEX tasks_updated ON tasks (updated_at);
