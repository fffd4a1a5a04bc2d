-- 1,000,000 borrowers, phones and accounts for measuring the search box (README "Search").
-- Run on a migrated, empty database: psql -d doorstep_x -f bench/search_1m.sql
INSERT INTO collections_app_branch (code, name, region, timezone) VALUES ('B1','Bench','苏州','Asia/Shanghai') ON CONFLICT DO NOTHING;
CREATE TEMP TABLE sur(s) AS SELECT unnest(string_to_array('王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤', NULL));
CREATE TEMP TABLE giv(g) AS SELECT unnest(string_to_array('伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉宇浩凯健俊帆帅旭宁龙林欣佳怡雪晨阳', NULL));
INSERT INTO collections_app_borrower (id, name, national_id_encrypted, national_id_hash, national_id_last4, employer, created_at, updated_at)
SELECT i,
  su[1 + (hashint4(i) & 2147483647) % array_length(su,1)] ||
  gi[1 + (hashint4(i*7) & 2147483647) % array_length(gi,1)] ||
  gi[1 + (hashint4(i*13) & 2147483647) % array_length(gi,1)],
  '', md5(i::text), lpad(((hashint4(i*3) & 2147483647) % 10000)::text, 4, '0'), '', now(), now()
FROM generate_series(1, 1000000) i, (SELECT array_agg(s) su FROM sur) a, (SELECT array_agg(g) gi FROM giv) b;
INSERT INTO collections_app_borrowerphone (borrower_id, number, label, is_primary)
SELECT i, '1' || (3 + i % 7)::text || lpad(((hashint4(i*5) & 2147483647) % 1000000000)::text, 9, '0'), 'mobile', true
FROM generate_series(1, 1000000) i;
INSERT INTO collections_app_delinquentaccount (account_no, borrower_id, branch_id, product, principal, outstanding_balance, overdue_amount, overdue_since, currency, has_open_case, broken_promises, screening_key, created_at, updated_at)
SELECT 'SZ' || lpad(i::text, 10, '0'), i, (SELECT id FROM collections_app_branch WHERE code='B1'), 'personal_consumer', 10000, 8000, 500, current_date - (i % 400), 'CNY', false, 0, 0, now(), now()
FROM generate_series(1, 1000000) i;
SELECT setval(pg_get_serial_sequence('collections_app_borrower','id'), 1000001);
VACUUM ANALYZE collections_app_borrower;
VACUUM ANALYZE collections_app_borrowerphone;
VACUUM ANALYZE collections_app_delinquentaccount;
