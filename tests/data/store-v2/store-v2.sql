BEGIN TRANSACTION;
CREATE TABLE categories (
	slug VARCHAR(100) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	origin VARCHAR(200), 
	name_rank INTEGER NOT NULL, 
	PRIMARY KEY (slug), 
	UNIQUE (origin)
);
INSERT INTO "categories" VALUES('caijing','财经','财经',3);
INSERT INTO "categories" VALUES('keji','科技','科技',3);
INSERT INTO "categories" VALUES('guoji','国际',NULL,3);
INSERT INTO "categories" VALUES('wangxinzhongguo','网信中国','网信中国',2);
INSERT INTO "categories" VALUES('hongguanjingji','宏观经济','宏观经济',2);
INSERT INTO "categories" VALUES('gupiao','gupiao',NULL,0);
INSERT INTO "categories" VALUES('fangchan','fangchan',NULL,0);
CREATE TABLE deliveries (
	id INTEGER NOT NULL, 
	edition_id INTEGER NOT NULL, 
	subscriber_id INTEGER NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	claimer VARCHAR(200), 
	claimed_at DATETIME, 
	attempts INTEGER NOT NULL, 
	message_id VARCHAR(300), 
	location TEXT, 
	error TEXT, 
	updated_at DATETIME, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_deliveries_edition_subscriber UNIQUE (edition_id, subscriber_id), 
	FOREIGN KEY(edition_id) REFERENCES editions (id), 
	FOREIGN KEY(subscriber_id) REFERENCES subscribers (id)
);
INSERT INTO "deliveries" VALUES(1,1,1,'sent',NULL,'2026-12-03 01:05:20.684981',1,'<digest-daily-20261203-13659aef810a60b3@finews.withounder.com>','/tmp/tmp.1dur1SgIrm/outbox/new/1796259920.M771708P457Q1.vm',NULL,'2026-12-03 01:05:20.773279');
INSERT INTO "deliveries" VALUES(2,1,2,'sent',NULL,'2026-12-03 01:05:20.684981',1,'<digest-daily-20261203-4e7ec8058434648c@finews.withounder.com>','/tmp/tmp.1dur1SgIrm/outbox/new/1796259920.M780573P457Q2.vm',NULL,'2026-12-03 01:05:20.781647');
INSERT INTO "deliveries" VALUES(3,1,3,'sent',NULL,'2026-12-03 01:05:20.684981',1,'<digest-daily-20261203-c2e438c1805a1e8d@finews.withounder.com>','/tmp/tmp.1dur1SgIrm/outbox/new/1796259920.M788182P457Q3.vm',NULL,'2026-12-03 01:05:20.789085');
INSERT INTO "deliveries" VALUES(4,1,4,'sent',NULL,'2026-12-03 01:05:20.684981',1,'<digest-daily-20261203-c0d3ba767c4becfd@finews.withounder.com>','/tmp/tmp.1dur1SgIrm/outbox/new/1796259920.M795043P457Q4.vm',NULL,'2026-12-03 01:05:20.795965');
INSERT INTO "deliveries" VALUES(5,1,5,'sent',NULL,'2026-12-03 01:05:20.684981',1,'<digest-daily-20261203-822fd7dfbfa735fe@finews.withounder.com>','/tmp/tmp.1dur1SgIrm/outbox/new/1796259920.M802006P457Q5.vm',NULL,'2026-12-03 01:05:20.802964');
INSERT INTO "deliveries" VALUES(6,2,1,'sent',NULL,'2026-12-03 01:05:20.829635',1,'<digest-caijing-20261203-37bb4e1994bf8fdd@finews.withounder.com>','/tmp/tmp.1dur1SgIrm/outbox/new/1796259920.M832196P457Q6.vm',NULL,'2026-12-03 01:05:20.833138');
INSERT INTO "deliveries" VALUES(7,2,2,'sent',NULL,'2026-12-03 01:05:20.829635',1,'<digest-caijing-20261203-9eec3f08d6586117@finews.withounder.com>','/tmp/tmp.1dur1SgIrm/outbox/new/1796259920.M833858P457Q7.vm',NULL,'2026-12-03 01:05:20.834610');
INSERT INTO "deliveries" VALUES(8,2,3,'skipped',NULL,'2026-12-03 01:05:20.829635',0,NULL,NULL,'no posts in the chosen categories','2026-12-03 01:05:20.839435');
INSERT INTO "deliveries" VALUES(9,2,4,'skipped',NULL,'2026-12-03 01:05:20.829635',0,NULL,NULL,'no posts in the chosen categories','2026-12-03 01:05:20.839631');
INSERT INTO "deliveries" VALUES(10,2,5,'sent',NULL,'2026-12-03 01:05:20.829635',1,'<digest-caijing-20261203-cb877f3e284c586d@finews.withounder.com>','/tmp/tmp.1dur1SgIrm/outbox/new/1796259920.M839976P457Q8.vm',NULL,'2026-12-03 01:05:20.840783');
CREATE TABLE editions (
	id INTEGER NOT NULL, 
	digest VARCHAR(100) NOT NULL, 
	date VARCHAR(10) NOT NULL, 
	window_start DATETIME, 
	window_end DATETIME NOT NULL, 
	items TEXT NOT NULL, 
	item_count INTEGER NOT NULL, 
	subject TEXT NOT NULL, 
	summary TEXT NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	created_at DATETIME NOT NULL, 
	finished_at DATETIME, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_editions_digest_end UNIQUE (digest, window_end), 
	CONSTRAINT uq_editions_digest_date UNIQUE (digest, date)
);
INSERT INTO "editions" VALUES(1,'daily','2026-12-03',NULL,'2026-12-03 01:05:20.617473','[{"slug": "caijing", "name": "财经", "posts": [1, 14, 6], "total": 3}, {"slug": "keji", "name": "科技", "posts": [2, 4, 5, 17, 10], "total": 5}, {"slug": "guoji", "name": "国际", "posts": [3, 2, 1, 16, 8], "total": 5}, {"slug": "fangchan", "name": "fangchan", "posts": [13], "total": 1}, {"slug": "gupiao", "name": "gupiao", "posts": [11], "total": 1}, {"slug": "hongguanjingji", "name": "宏观经济", "posts": [15, 9], "total": 2}, {"slug": "wangxinzhongguo", "name": "网信中国", "posts": [1, 12, 7], "total": 3}]',17,'金融资讯网 每日要闻 2026-12-03','17 篇：国家网信办发布新规；人民币对美元汇率保持基本稳定 双向波动特征明显；1月LPR报价出炉：1年期和5年期以上品种双双下调；第二篇 & 更多；人民币汇率走强；只有更新时间；5G、AI与8K齐上阵 科技元素扮靓北京冬奥会；我国科研团队在超导量子芯片研究中取得新进展；没有 guid 的文章','done','2026-12-03 01:05:20.663606','2026-12-03 01:05:20.805220');
INSERT INTO "editions" VALUES(2,'caijing','2026-12-03','2026-11-26 01:05:20.617473','2026-12-03 01:05:20.617473','[{"slug": "caijing", "name": "财经", "posts": [1, 14, 6], "total": 3}]',3,'金融资讯网 每日要闻 2026-12-03','3 篇：国家网信办发布新规；人民币对美元汇率保持基本稳定 双向波动特征明显；1月LPR报价出炉：1年期和5年期以上品种双双下调','done','2026-12-03 01:05:20.817128','2026-12-03 01:05:20.842099');
CREATE TABLE job_slots (
	job VARCHAR(100) NOT NULL, 
	slot VARCHAR(40) NOT NULL, 
	claimed_at DATETIME NOT NULL, 
	PRIMARY KEY (job, slot)
);
INSERT INTO "job_slots" VALUES('daily','2026-12-03 08:00:00','2026-12-03 01:05:20.527171');
CREATE TABLE meta (
	"key" VARCHAR(64) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "meta" VALUES('schema_version','2');
INSERT INTO "meta" VALUES('collect:scan:4','0425e8cb97366610b3b253a00a7d8f6515bb28f192c5ca6cc7096a0733b3d94e');
INSERT INTO "meta" VALUES('build_fingerprint','{"fingerprint": "985b011b0b04f3f9806e5f3bc5cd3749afdf578ee9ea1189ced13f052de39a11", "files": ["all.atom", "all.json", "all.rss", "caijing.atom", "caijing.json", "caijing.rss", "fangchan.atom", "fangchan.json", "fangchan.rss", "feed.xsl", "feeds.opml", "guoji.atom", "guoji.json", "guoji.rss", "gupiao.atom", "gupiao.json", "gupiao.rss", "hongguanjingji.atom", "hongguanjingji.json", "hongguanjingji.rss", "index.html", "keji.atom", "keji.json", "keji.rss", "snippets/caijing.html", "snippets/fangchan.html", "snippets/guoji.html", "snippets/gupiao.html", "snippets/hongguanjingji.html", "snippets/keji.html", "snippets/wangxinzhongguo.html", "wangxinzhongguo.atom", "wangxinzhongguo.json", "wangxinzhongguo.rss"], "feeds": 8, "shared": "515a14225393eb8a00dac0e1831c6ec39dc1f93afa4ae05e778fa8b46e9be819", "feed_states": {"all": "11e5c76063a514588fc0fe71fab52a6dcafc6076770af1a10d7082e6864f13c4", "caijing": "efdced9cb440eccec47cc63e85607044f0fe5d4cc5ce0bbae93d33e4cca2baf5", "fangchan": "389d685c799faf3a4e22ad9bd50a5f5e5dad6d0b00357f97a3e3680e6bbf053e", "guoji": "9d5a43bbd102f4b1d7b7a53b7387bdedbad0a579ab9979334e5a5e3e8711a15a", "gupiao": "4c732370e7c256c45bd2db6590d55073cbc71d410eebae8b5381cb6ab137242e", "hongguanjingji": "69d599e31800fb6c0a0883730595364239562456801e66b0ce106a6562014a41", "keji": "1b3cf4867d005f34e8fe2ca67af8ba67e5cceaba725caa0c11baba89db291864", "wangxinzhongguo": "31dbaaa1a5107d3c184979b09eeaa7d7394800250894384335dae8fe6c07b416"}}');
INSERT INTO "meta" VALUES('subscribers-file:/tmp/tmp.1dur1SgIrm/subscribers.csv','ab181f846b17411c6e8098a0902189a33bb2446c50bb30571c4e596348048d73');
CREATE TABLE post_categories (
	post_id INTEGER NOT NULL, 
	category_slug VARCHAR(100) NOT NULL, 
	position INTEGER NOT NULL, 
	PRIMARY KEY (post_id, category_slug), 
	FOREIGN KEY(post_id) REFERENCES posts (id), 
	FOREIGN KEY(category_slug) REFERENCES categories (slug)
);
INSERT INTO "post_categories" VALUES(1,'guoji',0);
INSERT INTO "post_categories" VALUES(1,'wangxinzhongguo',1);
INSERT INTO "post_categories" VALUES(1,'caijing',2);
INSERT INTO "post_categories" VALUES(2,'guoji',0);
INSERT INTO "post_categories" VALUES(2,'keji',1);
INSERT INTO "post_categories" VALUES(3,'guoji',0);
INSERT INTO "post_categories" VALUES(4,'keji',0);
INSERT INTO "post_categories" VALUES(5,'keji',0);
INSERT INTO "post_categories" VALUES(6,'caijing',0);
INSERT INTO "post_categories" VALUES(7,'wangxinzhongguo',0);
INSERT INTO "post_categories" VALUES(8,'guoji',0);
INSERT INTO "post_categories" VALUES(9,'hongguanjingji',0);
INSERT INTO "post_categories" VALUES(10,'keji',0);
INSERT INTO "post_categories" VALUES(11,'gupiao',0);
INSERT INTO "post_categories" VALUES(12,'wangxinzhongguo',0);
INSERT INTO "post_categories" VALUES(13,'fangchan',0);
INSERT INTO "post_categories" VALUES(14,'caijing',0);
INSERT INTO "post_categories" VALUES(15,'hongguanjingji',0);
INSERT INTO "post_categories" VALUES(16,'guoji',0);
INSERT INTO "post_categories" VALUES(17,'keji',0);
CREATE TABLE post_tags (
	post_id INTEGER NOT NULL, 
	tag_slug VARCHAR(100) NOT NULL, 
	position INTEGER NOT NULL, 
	PRIMARY KEY (post_id, tag_slug), 
	FOREIGN KEY(post_id) REFERENCES posts (id), 
	FOREIGN KEY(tag_slug) REFERENCES tags (slug)
);
INSERT INTO "post_tags" VALUES(4,'gupiao',0);
INSERT INTO "post_tags" VALUES(6,'caijingyaowen',0);
INSERT INTO "post_tags" VALUES(7,'wangxinzhongguoxinwen',0);
INSERT INTO "post_tags" VALUES(8,'guojiguancha',0);
INSERT INTO "post_tags" VALUES(9,'hongguanshuju',0);
INSERT INTO "post_tags" VALUES(10,'kejiqianyan',0);
INSERT INTO "post_tags" VALUES(11,'gushidongtai',0);
INSERT INTO "post_tags" VALUES(12,'wangxinzhongguoxinwen',0);
INSERT INTO "post_tags" VALUES(13,'loushiguancha',0);
INSERT INTO "post_tags" VALUES(14,'caijingyaowen',0);
INSERT INTO "post_tags" VALUES(14,'renminbi',1);
INSERT INTO "post_tags" VALUES(15,'hongguanshuju',0);
INSERT INTO "post_tags" VALUES(16,'guojiguancha',0);
INSERT INTO "post_tags" VALUES(16,'nengyuan',1);
INSERT INTO "post_tags" VALUES(17,'kejiqianyan',0);
CREATE TABLE posts (
	id INTEGER NOT NULL, 
	source_id INTEGER NOT NULL, 
	"key" VARCHAR(1000) NOT NULL, 
	guid VARCHAR(1000) NOT NULL, 
	link TEXT NOT NULL, 
	slug VARCHAR(300) NOT NULL, 
	title TEXT NOT NULL, 
	date DATETIME NOT NULL, 
	date_offset INTEGER NOT NULL, 
	updated DATETIME NOT NULL, 
	updated_offset INTEGER NOT NULL, 
	first_seen DATETIME NOT NULL, 
	changed_at DATETIME NOT NULL, 
	content_html TEXT NOT NULL, 
	summary TEXT NOT NULL, 
	author VARCHAR(300) NOT NULL, 
	source_name VARCHAR(300) NOT NULL, 
	original_url TEXT NOT NULL, 
	path TEXT NOT NULL, 
	size BIGINT NOT NULL, 
	mtime_ns BIGINT NOT NULL, 
	content_hash VARCHAR(64) NOT NULL, 
	withdrawn BOOLEAN NOT NULL, 
	withdrawn_at DATETIME, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_posts_source_key UNIQUE (source_id, "key"), 
	FOREIGN KEY(source_id) REFERENCES sources (id)
);
INSERT INTO "posts" VALUES(1,1,'news-2022-0001','news-2022-0001','https://news.example.org/2022/02/10/a.html','','国家网信办发布新规','2022-02-10 03:48:47.000000',480,'2022-02-10 03:48:47.000000',480,'2026-12-03 01:05:20.265845','2026-12-03 01:05:20.265845','<p>国家互联网信息办公室今日发布新规。规定自三月一日起施行。</p><p><img src="https://news.example.org/img/a.png" alt=""> 详见<a href="https://news.example.org/2022/02/10/full.html">全文</a>。</p>','国家互联网信息办公室今日发布新规。规定自三月一日起施行。详见全文。','记者 张三','网信中国','','',0,0,'609bc8cffe8d21c431b44e02a137d2de5818f18ea7a3492bed92b074d47d481d',0,NULL);
INSERT INTO "posts" VALUES(2,1,'https://news.example.org/2022/02/11/b.html','https://news.example.org/2022/02/11/b.html','https://news.example.org/2022/02/11/b.html?utm_source=rss&id=2','','第二篇 & 更多','2022-02-11 01:00:00.000000',480,'2022-02-11 01:00:00.000000',480,'2026-12-03 01:05:20.265845','2026-12-03 01:05:20.265845','<p>第二篇文章的正文。</p>','第二篇文章的正文。','','网信中国','','',0,0,'c6973e0c63379abde4aa3e24b1b60509d89a780fe074686bb28e4f86acc961bb',0,NULL);
INSERT INTO "posts" VALUES(3,1,'https://news.example.org/2022/02/12/c.html?a=1&b=2','https://news.example.org/2022/02/12/c.html?a=1&b=2','HTTPS://News.Example.org/2022/02/12/c.html?b=2&a=1&utm_medium=feed#top','','没有 guid 的文章','2022-02-12 00:30:00.000000',480,'2022-02-12 00:30:00.000000',480,'2026-12-03 01:05:20.265845','2026-12-03 01:05:20.265845','第三篇。','第三篇。','','网信中国','','',0,0,'5821d79d022fbe81c474579b0f5a527084f3f63bea84824da84d06283699ec04',0,NULL);
INSERT INTO "posts" VALUES(4,2,'tag:atom.example.org,2022:1','tag:atom.example.org,2022:1','https://atom.example.org/posts/1','','人民币汇率走强','2022-02-10 02:00:00.000000',480,'2022-02-10 03:00:00.000000',480,'2026-12-03 01:05:20.265845','2026-12-03 01:05:20.265845','<p>人民币对美元汇率中间价上调。</p>','人民币对美元汇率中间价上调。','李四','财经快讯','','',0,0,'b2bef734b0387da3b346ce743b7fdcba106396fc6cdd89dfc8a6f9ea6e035efa',0,NULL);
INSERT INTO "posts" VALUES(5,2,'tag:atom.example.org,2022:2','tag:atom.example.org,2022:2','https://atom.example.org/posts/2','','只有更新时间','2022-02-09 08:00:00.000000',0,'2022-02-09 08:00:00.000000',0,'2026-12-03 01:05:20.265845','2026-12-03 01:05:20.265845','<p>只有摘要的条目。</p>','只有摘要的条目。','','财经快讯','','',0,0,'9a083ec67df00262c16765f2392dc9f1934d11f585ed3ac677b4dd815c60d40f',0,NULL);
INSERT INTO "posts" VALUES(6,4,'_posts/2022-01-20-NW2022012082133138.md','https://finews.withounder.com/caijing/2022/01/20/NW2022012082133138','https://finews.withounder.com/caijing/2022/01/20/NW2022012082133138.html','NW2022012082133138','1月LPR报价出炉：1年期和5年期以上品种双双下调','2022-01-20 10:02:11.000000',480,'2022-01-20 10:02:11.000000',480,'2026-12-03 01:05:20.265845','2026-12-03 01:05:20.265845','<p>1月20日，中国人民银行授权全国银行间同业拆借中心公布，1年期贷款市场报价利率（LPR）为3.70%，5年期以上LPR为4.60%，分别较上期下降10个基点和5个基点。这是1年期LPR连续第二个月下调，也是5年期以上LPR自2020年4月以来首次下调。</p>
 <p>市场人士分析，此次LPR下调主要受政策利率下行带动。此前，央行下调中期借贷便利（MLF）操作和公开市场逆回购操作中标利率各10个基点，为LPR下行打开了空间。叠加前期降准释放的长期资金降低了银行资金成本，银行报价下调具备条件。</p>
 <p>对于5年期以上LPR降幅小于1年期的原因，有分析人士认为，这体现出政策在支持实体经济融资与保持房地产市场平稳之间的统筹考虑。5年期以上LPR是房贷利率定价的主要参考基准，其适度下调有助于满足购房者合理住房需求。</p>
 <p>多位经济学家表示，当前经济面临需求收缩、供给冲击、预期转弱三重压力，货币政策需要靠前发力。LPR下调将推动企业综合融资成本稳中有降，有利于提振市场信心，稳定信贷增长。后续仍存在进一步降准降息的可能，但节奏和力度将根据经济运行情况相机抉择。</p>','1月20日，中国人民银行授权全国银行间同业拆借中心公布，1年期贷款市场报价利率（LPR）为3.70%，5年期以上LPR为4.60%，分别较上期下降10个基点和5个基点。这是1年期LPR连续第二个月下调，也是5年期以上LPR自2020年4月以来首次下调。','','新华财经','http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW2022012082133138','/tmp/tmp.1dur1SgIrm/site/_posts/2022-01-20-NW2022012082133138.md',1717,1796259919131576055,'d14a32a87f09a4e93a3c7f0166787867ef359ce0d9801e2538c6106ad3fb3f02',0,NULL);
INSERT INTO "posts" VALUES(7,4,'_posts/2022-01-21-NW2022012132304658.md','https://finews.withounder.com/wangxinzhongguo/2022/01/21/NW2022012132304658','https://finews.withounder.com/wangxinzhongguo/2022/01/21/NW2022012132304658.html','NW2022012132304658','国家网信办部署开展“清朗·春节网络环境整治”专项行动','2022-01-21 01:15:32.000000',480,'2022-01-21 01:15:32.000000',480,'2026-12-03 01:05:20.265845','2026-12-03 01:05:20.265845','<p>为营造喜庆祥和的春节网络环境，国家网信办近日印发通知，决定即日起至2月下旬在全国范围内开展“清朗·春节网络环境整治”专项行动。此次专项行动聚焦春节期间网民高频使用的网站平台和重点环节，集中整治网络不良信息和突出问题。有关负责人表示，将坚持问题导向，压实平台主体责任，切实维护广大网民合法权益。</p>
 <p><strong>聚焦重点环节，集中整治突出问题</strong></p>
 <p>据介绍，专项行动重点整治八类问题，包括借春节之机宣扬低俗庸俗内容、网络直播和短视频中的炫富拜金现象、诱导未成年人打赏、借抢红包名义实施网络诈骗、春运出行和春节消费领域的虚假信息等。各地网信部门将加强巡查监测，对发现的问题及时处置。</p>
 <p>通知要求，各重点网站平台要对首页首屏、热搜榜单、推荐弹窗等重点环节加强管理，严格规范账号运营行为，不得以流量为导向推送不良信息。对于春节期间集中出现的“红包”“抽奖”等营销活动，平台应完善审核机制，及时清理涉嫌诈骗的链接和账号。</p>
 <p>业内人士认为，春节期间网民上网时间明显增加，未成年人触网更为集中，开展针对性整治十分必要。多家网站平台表示，将结合自身业务特点，组建专项工作团队，优化内容审核策略，畅通举报渠道，配合做好专项行动各项工作。</p>
 <p>国家网信办有关负责人强调，各地网信部门要加强组织领导，细化工作方案，强化督导检查，对问题突出、整改不力的网站平台依法依规从严处置，推动形成积极健康、向上向善的网络文化，为广大网民过一个欢乐祥和的新春佳节营造良好网络氛围。</p>','为营造喜庆祥和的春节网络环境，国家网信办近日印发通知，决定即日起至2月下旬在全国范围内开展“清朗·春节网络环境整治”专项行动。此次专项行动聚焦春节期间网民高频使用的网站平台和重点环节，集中整治网络不良信息和突出问题。','','网信中国','http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW2022012132304658','/tmp/tmp.1dur1SgIrm/site/_posts/2022-01-21-NW2022012132304658.md',2328,1796259919133636608,'88c5d3f3412cd463276c07c3b39f4339820be26cd9f9302f0b622fa31b845d33',0,NULL);
INSERT INTO "posts" VALUES(8,4,'_posts/2022-01-22-NW2022012260964517.md','https://finews.withounder.com/guoji/2022/01/22/NW2022012260964517','https://finews.withounder.com/guoji/2022/01/22/NW2022012260964517.html','NW2022012260964517','RCEP生效以来区域经贸合作持续升温 协定红利逐步释放','2022-01-22 13:10:45.000000',480,'2022-01-22 13:10:45.000000',480,'2026-12-03 01:05:20.265845','2026-12-03 01:05:20.265845','<p>《区域全面经济伙伴关系协定》（RCEP）于今年1月1日正式生效以来，区域内贸易投资合作持续升温。多国企业积极申领原产地证书、享受关税减让，协定带来的红利正在逐步释放。分析人士认为，RCEP的实施将为地区经济复苏注入新动力。</p>
 <p>据各地海关统计，RCEP生效以来，我国企业申领RCEP原产地证书数量快速增长，涉及化工产品、纺织服装、机电产品、农产品等多个品类。不少出口企业表示，关税成本下降后，产品在东盟、日本等市场的价格竞争力明显增强。</p>
 <p>东盟国家对协定生效同样反应积极。有东南亚国家官员表示，RCEP将原产地累积规则扩展至整个区域，有利于区域内产业链供应链深度融合，吸引更多投资流入制造业和数字经济领域，为中小企业参与国际贸易创造更多机会。</p>
 <p>根据安排，RCEP将于2月1日起对韩国生效。有专家指出，作为全球人口最多、经贸规模最大、最具发展潜力的自由贸易区，RCEP的全面实施需要各成员国加强政策协调，提升贸易便利化水平，共同维护开放包容的多边贸易体制。</p>','《区域全面经济伙伴关系协定》（RCEP）于今年1月1日正式生效以来，区域内贸易投资合作持续升温。多国企业积极申领原产地证书、享受关税减让，协定带来的红利正在逐步释放。分析人士认为，RCEP的实施将为地区经济复苏注入新动力。','','新华社','http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW2022012260964517','/tmp/tmp.1dur1SgIrm/site/_posts/2022-01-22-NW2022012260964517.md',1648,1796259919135497974,'4709f66c964ef95f2f05bb03ba152746f3d0b6a4e5d5ed066abe87d491d125b7',0,NULL);
INSERT INTO "posts" VALUES(9,4,'_posts/2022-01-23-NW2022012319491728.md','https://finews.withounder.com/hongguanjingji/2022/01/23/NW2022012319491728','https://finews.withounder.com/hongguanjingji/2022/01/23/NW2022012319491728.html','NW2022012319491728','2021年全国居民人均可支配收入35128元 实际增长8.1%','2022-01-23 02:00:15.000000',480,'2022-01-23 02:00:15.000000',480,'2026-12-03 01:05:20.265845','2026-12-03 01:05:20.265845','<p>国家统计局发布的数据显示，2021年，全国居民人均可支配收入35128元，比上年名义增长9.1%，扣除价格因素，实际增长8.1%，两年平均增长6.9%，与经济增长基本同步。全国居民人均可支配收入中位数为29975元，增长8.8%。居民收入稳步增长，为扩大内需提供了有力支撑。</p>
 <p>分城乡看，城镇居民人均可支配收入47412元，扣除价格因素实际增长7.1%；农村居民人均可支配收入18931元，扣除价格因素实际增长9.7%。农村居民收入增速快于城镇居民，城乡居民人均收入比值为2.50，比上年缩小0.06，城乡收入差距持续缩小。</p>
 <p>从收入来源看，全国居民人均工资性收入、经营净收入、财产净收入和转移净收入均实现增长，其中工资性收入占可支配收入的比重超过五成，仍是居民收入的主要来源。就业形势总体稳定，为居民增收提供了基础支撑。</p>
 <p>消费方面，2021年全国居民人均消费支出24100元，比上年名义增长13.6%，扣除价格因素实际增长12.6%。其中，人均服务性消费支出增长较快，教育文化娱乐、交通通信等支出明显恢复，居民消费结构持续升级，消费对经济增长的拉动作用进一步增强。</p>','国家统计局发布的数据显示，2021年，全国居民人均可支配收入35128元，比上年名义增长9.1%，扣除价格因素，实际增长8.1%，两年平均增长6.9%，与经济增长基本同步。全国居民人均可支配收入中位数为29975元，增长8.8%。居民收入稳步增长，为扩大内需提供了有力支撑。','','国家统计局','http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW2022012319491728','/tmp/tmp.1dur1SgIrm/site/_posts/2022-01-23-NW2022012319491728.md',1755,1796259919137340873,'95a41e50803ff0e0f1e8593392b06b29cc4abd53eb92975a6c95b997e186532c',0,NULL);
INSERT INTO "posts" VALUES(10,4,'_posts/2022-01-24-NW2022012455236710.md','https://finews.withounder.com/keji/2022/01/24/NW2022012455236710','https://finews.withounder.com/keji/2022/01/24/NW2022012455236710.html','NW2022012455236710','我国科研团队在超导量子芯片研究中取得新进展','2022-01-24 05:27:09.000000',480,'2022-01-24 05:27:09.000000',480,'2026-12-03 01:05:20.265845','2026-12-03 01:05:20.265845','<p>记者从相关科研机构获悉，我国一支科研团队近日在超导量子芯片研究方面取得新进展，成功实现了对多个超导量子比特的高精度操控，相关成果已在国际学术期刊上发表。研究人员表示，这项工作为进一步构建更大规模的量子计算原型机奠定了技术基础。</p>
 <p>量子比特是量子计算的基本单元，其相干时间和操控精度直接决定量子计算机的性能。据介绍，研究团队通过优化芯片设计与制备工艺，有效降低了量子比特之间的串扰，在保持较长相干时间的同时，将双比特门操作的保真度提升至较高水平。</p>
 <p>团队负责人介绍，超导量子计算路线具有可扩展性好、与现有半导体工艺兼容等优势，是国际上最受关注的技术路线之一。但要实现实用化的通用量子计算，仍需在纠错编码、低温电子学和软件算法等方面持续攻关。</p>
 <p>业内专家认为，量子计算在药物研发、材料设计、密码分析等领域具有广阔应用前景。近年来，我国在量子信息领域不断加大投入，相关研究水平稳步提升，下一步应加强基础研究与工程技术协同，培养更多复合型人才。</p>','记者从相关科研机构获悉，我国一支科研团队近日在超导量子芯片研究方面取得新进展，成功实现了对多个超导量子比特的高精度操控，相关成果已在国际学术期刊上发表。研究人员表示，这项工作为进一步构建更大规模的量子计算原型机奠定了技术基础。','','科技日报','http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW2022012455236710','/tmp/tmp.1dur1SgIrm/site/_posts/2022-01-24-NW2022012455236710.md',1678,1796259919139036502,'f465de1f86a8b0d2017047f5231d670ee59a6f2916c9a22143622f932fa4448a',0,NULL);
INSERT INTO "posts" VALUES(11,4,'_posts/2022-01-25-NW2022012546751460.md','https://finews.withounder.com/gupiao/2022/01/25/NW2022012546751460','https://finews.withounder.com/gupiao/2022/01/25/NW2022012546751460.html','NW2022012546751460','A股三大指数集体收跌 两市成交额回落至万亿元下方','2022-01-25 07:33:48.000000',480,'2022-01-25 07:33:48.000000',480,'2026-12-03 01:05:20.265845','2026-12-03 01:05:20.265845','<p>1月25日，A股市场三大指数集体低开低走。截至收盘，上证指数下跌2.58%，报3433.06点；深证成指下跌2.97%；创业板指下跌2.67%。沪深两市合计成交额约9800亿元，较前一交易日有所回落。两市超过4000只个股下跌，市场情绪较为低迷，题材股普遍出现回调。</p>
 <p>从板块表现看，煤炭、旅游酒店等板块跌幅居前，半导体、新能源车产业链等成长板块延续调整态势；仅有少数板块逆市飘红，银行、房地产等低估值板块表现相对抗跌。北向资金全天净卖出超过20亿元。</p>
 <p>分析人士认为，近期市场调整主要受海外市场波动加剧、美联储加息预期升温以及春节前资金面季节性偏紧等因素影响。此外，部分投资者在长假前选择降低仓位、持币过节，也对市场形成一定压制，成交量随之萎缩。</p>
 <p>对于后市，多家券商表示，随着稳增长政策持续发力，A股市场估值已回到相对合理区间，中长期配置价值逐步显现。但短期内市场仍可能延续震荡，建议投资者控制仓位，关注业绩确定性较强的行业龙头。</p>','1月25日，A股市场三大指数集体低开低走。截至收盘，上证指数下跌2.58%，报3433.06点；深证成指下跌2.97%；创业板指下跌2.67%。沪深两市合计成交额约9800亿元，较前一交易日有所回落。两市超过4000只个股下跌，市场情绪较为低迷，题材股普遍出现回调。','','证券时报','http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW2022012546751460','/tmp/tmp.1dur1SgIrm/site/_posts/2022-01-25-NW2022012546751460.md',1610,1796259919140691941,'fd5972451fa6b95cf56618333a1c7f17364b1aafbaeda918a2ac4ec95f0db22d',0,NULL);
INSERT INTO "posts" VALUES(12,4,'_posts/2022-01-26-NW2022012618188457.md','https://finews.withounder.com/wangxinzhongguo/2022/01/26/NW2022012618188457','https://finews.withounder.com/wangxinzhongguo/2022/01/26/NW2022012618188457.html','NW2022012618188457','多地网信部门部署算法推荐服务备案工作 推动算法规范透明','2022-01-26 08:40:08.000000',480,'2022-01-26 08:40:08.000000',480,'2026-12-03 01:05:20.265845','2026-12-03 01:05:20.265845','<p>随着《互联网信息服务算法推荐管理规定》施行日期临近，北京、上海、广东、浙江等地网信部门近日陆续召开工作会议，部署辖区内算法推荐服务备案工作。会议要求相关企业对照规定开展自查，完善算法安全管理制度。多家企业表示将按时完成备案，推动算法应用公开透明。</p>
 <p>据了解，规定明确，具有舆论属性或者社会动员能力的算法推荐服务提供者，应当在提供服务之日起十个工作日内通过互联网信息服务算法备案系统填报相关信息，履行备案手续。备案信息包括服务提供者名称、服务形式、应用领域、算法类型和算法自评估报告等内容。</p>
 <p>某地网信办相关负责人介绍，此次会议对备案流程、填报要点以及算法安全评估要求进行了详细解读，并现场解答了企业关心的问题。下一步，将建立常态化沟通机制，指导企业用好备案系统，帮助中小企业提升算法合规能力。</p>
 <p><strong>保障用户选择权，回应社会关切</strong></p>
 <p>规定提出，算法推荐服务提供者应当向用户提供不针对其个人特征的选项，或者向用户提供便捷的关闭算法推荐服务的选项。针对“大数据杀熟”、诱导沉迷等社会关注问题，规定也作出了明确要求，强化对未成年人、老年人、劳动者以及消费者等群体的权益保护。</p>
 <p>有专家指出，算法已深度嵌入新闻资讯、电子商务、网络视频等各类应用场景，对其进行规范管理，有利于促进算法技术健康有序发展。企业应当将合规要求内化为产品设计原则，在提升用户体验的同时，切实履行信息内容管理主体责任。</p>','随着《互联网信息服务算法推荐管理规定》施行日期临近，北京、上海、广东、浙江等地网信部门近日陆续召开工作会议，部署辖区内算法推荐服务备案工作。会议要求相关企业对照规定开展自查，完善算法安全管理制度。多家企业表示将按时完成备案，推动算法应用公开透明。','','网信中国','http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW2022012618188457','/tmp/tmp.1dur1SgIrm/site/_posts/2022-01-26-NW2022012618188457.md',2261,1796259919142393759,'2c17c201751cc9c99bc098e42da347888827744b3d1686942ee8daaa62827fac',0,NULL);
INSERT INTO "posts" VALUES(13,4,'_posts/2022-01-27-NW2022012797227903.md','https://finews.withounder.com/fangchan/2022/01/27/NW2022012797227903','https://finews.withounder.com/fangchan/2022/01/27/NW2022012797227903.html','NW2022012797227903','多地银行下调首套房贷利率 放款周期明显缩短','2022-01-27 02:05:37.000000',480,'2022-01-27 02:05:37.000000',480,'2026-12-03 01:05:20.265845','2026-12-03 01:05:20.265845','<p>随着1月5年期以上LPR下调，多地商业银行陆续下调首套房贷款利率。记者调查发现，广州、佛山、苏州、南京等城市部分银行首套房贷利率已下调10至20个基点，同时放款周期较去年下半年明显缩短。业内人士认为，这有助于满足购房者的合理住房需求。</p>
 <p>据了解，在广州，部分国有大型银行的首套房贷利率已由此前的5.8%以上调整至5.6%左右，二套房贷利率也出现不同程度下调。有银行工作人员表示，目前房贷额度较为充足，符合条件的客户最快一个月左右即可放款。</p>
 <p>第三方机构的监测数据显示，1月份全国百城首套主流房贷利率环比下降，已连续多个月回落。分析人士指出，房贷利率下行和放款速度加快，将在一定程度上减轻购房者还款压力，改善市场预期，购房者观望情绪有望逐步缓解。</p>
 <p>不过，也有专家指出，当前房地产市场仍处于调整期，居民购房意愿的恢复需要一定时间。在“房住不炒”的总基调下，各地将因城施策，支持首套刚需和改善性住房需求，促进房地产业良性循环和健康发展。</p>','随着1月5年期以上LPR下调，多地商业银行陆续下调首套房贷款利率。记者调查发现，广州、佛山、苏州、南京等城市部分银行首套房贷利率已下调10至20个基点，同时放款周期较去年下半年明显缩短。业内人士认为，这有助于满足购房者的合理住房需求。','','中国房地产报','http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW2022012797227903','/tmp/tmp.1dur1SgIrm/site/_posts/2022-01-27-NW2022012797227903.md',1648,1796259919144061206,'cee3e753b921186d1a66301ed2b13ef3508833d3d92ce5124986bff7136fa828',0,NULL);
INSERT INTO "posts" VALUES(14,4,'_posts/2022-01-29-NW2022012999644371.md','https://finews.withounder.com/caijing/2022/01/29/NW2022012999644371','https://finews.withounder.com/caijing/2022/01/29/NW2022012999644371.html','NW2022012999644371','人民币对美元汇率保持基本稳定 双向波动特征明显','2022-01-29 00:47:36.000000',480,'2022-01-29 00:47:36.000000',480,'2026-12-03 01:05:20.265845','2026-12-03 01:05:20.265845','<p>今年以来，人民币对美元汇率在合理均衡水平上保持基本稳定，双向波动特征明显。中国外汇交易中心数据显示，1月28日人民币对美元汇率中间价报6.3746。受美元指数走强影响，近几个交易日人民币汇率小幅回调，但整体仍处于相对高位。</p>
 <p>分析人士认为，支撑人民币汇率稳定的因素依然较多。一方面，我国出口保持较强韧性，2021年货物贸易顺差规模创历史新高，结汇需求较为旺盛；另一方面，我国经济基本面长期向好，外资持续增配人民币资产，跨境资金流动总体平稳。</p>
 <p><strong>汇率弹性增强，企业需树立风险中性理念</strong></p>
 <p>不过，也有观点指出，随着美联储货币政策加速收紧，中美利差可能进一步收窄，叠加春节前后季节性购汇需求增加，短期内人民币汇率双向波动幅度或有所扩大。企业和个人应树立风险中性理念，避免对汇率单边走势形成过度预期。</p>
 <p>外汇管理部门此前表示，将继续深化外汇领域改革开放，保持人民币汇率弹性，发挥汇率调节宏观经济和国际收支自动稳定器作用，同时加强跨境资金流动监测，防范外部冲击风险，维护外汇市场稳健运行。</p>','今年以来，人民币对美元汇率在合理均衡水平上保持基本稳定，双向波动特征明显。中国外汇交易中心数据显示，1月28日人民币对美元汇率中间价报6.3746。受美元指数走强影响，近几个交易日人民币汇率小幅回调，但整体仍处于相对高位。分析人士认为，支撑人民币汇率稳定的因素依然较多。','','经济日报','http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW2022012999644371','/tmp/tmp.1dur1SgIrm/site/_posts/2022-01-29-NW2022012999644371.md',1755,1796259919145782664,'e087b45043435a1af2c2a40df412e6415447e7543f10fea14f76f9dd9be6b0c5',0,NULL);
INSERT INTO "posts" VALUES(15,4,'_posts/2022-01-30-NW2022013035422469.md','https://finews.withounder.com/hongguanjingji/2022/01/30/NW2022013035422469','https://finews.withounder.com/hongguanjingji/2022/01/30/NW2022013035422469.html','NW2022013035422469','1月份制造业采购经理指数为50.1% 继续位于扩张区间','2022-01-30 01:30:22.000000',480,'2022-01-30 01:30:22.000000',480,'2026-12-03 01:05:20.265845','2026-12-03 01:05:20.265845','<p>国家统计局服务业调查中心和中国物流与采购联合会1月30日发布的数据显示，1月份，制造业采购经理指数（PMI）为50.1%，比上月下降0.2个百分点，仍高于临界点，制造业继续保持扩张。非制造业商务活动指数为51.1%，综合PMI产出指数为51.0%，企业生产经营活动总体保持扩张。</p>
 <p>从企业规模看，大型企业PMI继续高于临界点，中型企业PMI位于临界点附近，小型企业PMI低于临界点。从分类指数看，生产指数为50.9%，表明制造业生产继续扩张；新订单指数为49.3%，表明制造业市场需求有所放缓，需求不足的问题仍较为突出。</p>
 <p>国家统计局服务业调查中心有关负责人表示，1月份，受春节临近和部分地区疫情散发等因素影响，制造业生产和需求有所放缓，但高技术制造业和装备制造业PMI保持较高景气水平，价格指数有所回落，企业成本压力有所缓解。</p>
 <p>非制造业方面，建筑业商务活动指数保持在较高景气区间，随着稳增长政策持续发力，基础设施项目加快推进；服务业商务活动指数略有回落，受疫情影响，部分接触型聚集型服务行业景气度有所下降。</p>
 <p>有分析人士指出，一季度稳增长政策效果将逐步显现，但需求不足仍是当前制约经济恢复的主要因素，部分中小企业经营仍面临一定困难。后续需进一步加大宏观政策跨周期调节力度，稳定市场预期，提振市场主体信心。</p>','国家统计局服务业调查中心和中国物流与采购联合会1月30日发布的数据显示，1月份，制造业采购经理指数（PMI）为50.1%，比上月下降0.2个百分点，仍高于临界点，制造业继续保持扩张。非制造业商务活动指数为51.1%，综合PMI产出指数为51.0%，企业生产经营活动总体保持扩张。','','国家统计局','http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW2022013035422469','/tmp/tmp.1dur1SgIrm/site/_posts/2022-01-30-NW2022013035422469.md',2018,1796259919147581687,'795857cb501a89001de4273616999752cc39d465450c96c83368642553c5b277',0,NULL);
INSERT INTO "posts" VALUES(16,4,'_posts/2022-01-31-NW2022013154307295.md','https://finews.withounder.com/guoji/2022/01/31/NW2022013154307295','https://finews.withounder.com/guoji/2022/01/31/NW2022013154307295.html','NW2022013154307295','国际油价升至七年来高位 供需偏紧格局短期难改','2022-01-31 03:55:27.000000',480,'2022-01-31 03:55:27.000000',480,'2026-12-03 01:05:20.265845','2026-12-03 01:05:20.265845','<p>近期国际油价持续走高，伦敦布伦特原油期货价格一度突破每桶90美元，创下2014年以来新高。分析人士认为，全球需求逐步恢复、主要产油国增产步伐相对缓慢以及地缘政治因素等共同推高了油价。短期内，国际原油市场供需偏紧的格局恐难根本改变。</p>
 <p>从需求端看，尽管新冠疫情仍有反复，但多国逐步放宽防疫限制措施，交通出行和工业生产活动有所恢复，原油消费量稳步回升。国际能源机构在最新发布的月度报告中上调了今年全球石油需求增长预期。</p>
 <p>从供给端看，石油输出国组织（欧佩克）与非欧佩克产油国按计划逐月小幅提高产量，但部分成员国由于投资不足、设施维护等原因，实际增产幅度低于配额水平。与此同时，全球商业原油库存处于相对低位，市场缓冲能力有限。</p>
 <p>油价上涨给全球经济带来一定压力。有经济学家指出，能源价格上涨将进一步推高多国通胀水平，增加企业生产成本和居民生活负担，也使各国央行在货币政策调整上面临更复杂的权衡。后续油价走势仍需关注主要产油国政策动向和全球经济复苏进程。</p>','近期国际油价持续走高，伦敦布伦特原油期货价格一度突破每桶90美元，创下2014年以来新高。分析人士认为，全球需求逐步恢复、主要产油国增产步伐相对缓慢以及地缘政治因素等共同推高了油价。短期内，国际原油市场供需偏紧的格局恐难根本改变。','','环球时报','http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW2022013154307295','/tmp/tmp.1dur1SgIrm/site/_posts/2022-01-31-NW2022013154307295.md',1694,1796259919149396393,'5eb8cbdfb1b613a1a358221a6d242d92b2edeaaa7d11e84de43fd0ba515cde25',0,NULL);
INSERT INTO "posts" VALUES(17,4,'_posts/2022-02-03-NW2022020372628768.md','https://finews.withounder.com/keji/2022/02/03/NW2022020372628768','https://finews.withounder.com/keji/2022/02/03/NW2022020372628768.html','NW2022020372628768','5G、AI与8K齐上阵 科技元素扮靓北京冬奥会','2022-02-03 02:48:23.000000',480,'2022-02-03 02:48:23.000000',480,'2026-12-03 01:05:20.265845','2026-12-03 01:05:20.265845','<p>北京冬奥会即将开幕，一系列新技术将在赛事组织、转播和观赛服务中集中亮相。记者了解到，5G网络已实现冬奥场馆全覆盖，8K超高清直播、AI辅助评分、云转播等技术将为全球观众带来全新观赛体验。多位专家表示，这将是一届科技含量很高的冬奥会。</p>
 <p>在转播方面，转播机构将大规模采用4K/8K超高清信号制作，并通过5G网络实现多路信号实时回传。观众不仅可以在电视端收看，还可以通过手机App选择多个视角观看比赛，使用iPhone、安卓手机等终端的用户均能获得流畅的高清画面。</p>
 <p>AI技术的应用同样引人关注。据介绍，基于AI的手语数字人将为听障人士提供赛事新闻播报服务；在部分雪上项目中，动作捕捉与AI分析系统可以实时生成运动员的速度、高度和旋转角度等数据，帮助观众更直观地理解比赛。</p>
 <p>此外，冬奥村和赛区内还部署了智能机器人，承担餐饮配送、消毒清洁和引导问询等工作，减少人员接触。有业内人士表示，这些技术经过冬奥会的检验后，有望在智慧城市、文体旅游和医疗健康等领域加快推广，带动相关产业链发展。</p>','北京冬奥会即将开幕，一系列新技术将在赛事组织、转播和观赛服务中集中亮相。记者了解到，5G网络已实现冬奥场馆全覆盖，8K超高清直播、AI辅助评分、云转播等技术将为全球观众带来全新观赛体验。多位专家表示，这将是一届科技含量很高的冬奥会。','','科技日报','http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW2022020372628768','/tmp/tmp.1dur1SgIrm/site/_posts/2022-02-03-NW2022020372628768.md',1680,1796259919151029399,'50e1e701c233985a864a76d9149369d9e5b01e0ddeab2c76e03a8a62e2791e78',0,NULL);
CREATE TABLE runs (
	id INTEGER NOT NULL, 
	job VARCHAR(100) NOT NULL, 
	step VARCHAR(40) NOT NULL, 
	scheduled_at DATETIME, 
	started_at DATETIME NOT NULL, 
	finished_at DATETIME, 
	outcome VARCHAR(20) NOT NULL, 
	counts TEXT NOT NULL, 
	error TEXT, 
	PRIMARY KEY (id)
);
INSERT INTO "runs" VALUES(1,'once','pipeline',NULL,'2026-12-03 01:05:20.255611','2026-12-03 01:05:20.843112','partial','{"build_feeds": 8, "build_written": 34, "digest_editions": 2, "digest_failed": 0, "digest_pending": 0, "digest_sent": 8, "files": 17, "new": 17, "rejected": 1, "skipped": 0, "unchanged": 0, "updated": 0, "withdrawn": 0}',NULL);
INSERT INTO "runs" VALUES(2,'digest:daily','digest','2026-12-03 01:05:23.935425','2026-12-03 01:05:23.935435','2026-12-03 01:05:23.940496','ok','{"editions": 1, "failed": 0, "pending": 0, "sent_now": 0}',NULL);
INSERT INTO "runs" VALUES(3,'digest:caijing','digest','2026-12-03 01:05:23.935425','2026-12-03 01:05:23.941187','2026-12-03 01:05:23.942133','ok','{"editions": 1, "failed": 0, "pending": 0, "sent_now": 0}',NULL);
CREATE TABLE sources (
	id INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	kind VARCHAR(20) NOT NULL, 
	location TEXT NOT NULL, 
	url TEXT, 
	etag TEXT, 
	last_modified VARCHAR(100), 
	redirect_url TEXT, 
	redirect_count INTEGER NOT NULL, 
	error_count INTEGER NOT NULL, 
	last_result TEXT, 
	last_fetch DATETIME, 
	next_fetch DATETIME, 
	disabled BOOLEAN NOT NULL, 
	retry_after DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);
INSERT INTO "sources" VALUES(1,'upstream-rss','feed','http://127.0.0.1:55493/rss20.xml','http://127.0.0.1:55493/rss20.xml',NULL,'Thu, 03 Dec 2026 01:05:19 GMT',NULL,0,0,'200 ok: 3 new, 0 updated','2026-12-03 01:05:20.265845','2026-12-03 01:35:20.265845',0,NULL);
INSERT INTO "sources" VALUES(2,'upstream-atom','feed','http://127.0.0.1:55493/atom.xml','http://127.0.0.1:55493/atom.xml',NULL,'Thu, 03 Dec 2026 01:05:19 GMT',NULL,0,0,'200 ok: 2 new, 0 updated','2026-12-03 01:05:20.265845','2026-12-03 01:35:20.265845',0,NULL);
INSERT INTO "sources" VALUES(3,'upstream-gone','feed','http://127.0.0.1:55493/missing.xml','http://127.0.0.1:55493/missing.xml',NULL,NULL,NULL,0,1,'error: HTTP 404','2026-12-03 01:05:20.265845','2026-12-03 01:35:20.265845',0,NULL);
INSERT INTO "sources" VALUES(4,'posts','posts','/tmp/tmp.1dur1SgIrm/site/_posts',NULL,NULL,NULL,NULL,0,0,NULL,NULL,NULL,0,NULL);
CREATE TABLE subscribers (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	email VARCHAR(320) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	categories TEXT NOT NULL, 
	digests TEXT NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	source TEXT NOT NULL, 
	hard_failures INTEGER NOT NULL, 
	chosen_at DATETIME, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	status_at DATETIME, 
	UNIQUE (email)
);
INSERT INTO "subscribers" VALUES(1,'wang.fang@example.com','王芳','','','active','file:/tmp/tmp.1dur1SgIrm/subscribers.csv',0,NULL,'2026-12-03 01:05:20.617473','2026-12-03 01:05:20.617473','2026-12-03 01:05:20.617473');
INSERT INTO "subscribers" VALUES(2,'li.lei@example.org','李雷','caijing gupiao','','unsubscribed','file:/tmp/tmp.1dur1SgIrm/subscribers.csv',0,NULL,'2026-12-03 01:05:20.617473','2026-12-03 01:05:22.999660','2026-12-03 01:05:22.999660');
INSERT INTO "subscribers" VALUES(3,'zhang.wei@example.com','张伟','wangxinzhongguo','','active','file:/tmp/tmp.1dur1SgIrm/subscribers.csv',0,NULL,'2026-12-03 01:05:20.617473','2026-12-03 01:05:20.617473','2026-12-03 01:05:20.617473');
INSERT INTO "subscribers" VALUES(4,'chen.jing@example.org','','keji guoji','','active','file:/tmp/tmp.1dur1SgIrm/subscribers.csv',0,NULL,'2026-12-03 01:05:20.617473','2026-12-03 01:05:20.617473','2026-12-03 01:05:20.617473');
INSERT INTO "subscribers" VALUES(5,'editor@example.com','Editor','fangchan caijing keji','','active','file:/tmp/tmp.1dur1SgIrm/subscribers.csv',0,NULL,'2026-12-03 01:05:20.617473','2026-12-03 01:05:20.617473','2026-12-03 01:05:20.617473');
INSERT INTO "subscribers" VALUES(6,'new.reader@example.net','新读者','caijing','','active','cli',0,NULL,'2026-12-03 01:05:21.989705','2026-12-03 01:05:21.989705','2026-12-03 01:05:21.989705');
CREATE TABLE tags (
	slug VARCHAR(100) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	PRIMARY KEY (slug), 
	UNIQUE (name)
);
INSERT INTO "tags" VALUES('gupiao','股票');
INSERT INTO "tags" VALUES('caijingyaowen','财经要闻');
INSERT INTO "tags" VALUES('wangxinzhongguoxinwen','网信中国新闻');
INSERT INTO "tags" VALUES('guojiguancha','国际观察');
INSERT INTO "tags" VALUES('hongguanshuju','宏观数据');
INSERT INTO "tags" VALUES('kejiqianyan','科技前沿');
INSERT INTO "tags" VALUES('gushidongtai','股市动态');
INSERT INTO "tags" VALUES('loushiguancha','楼市观察');
INSERT INTO "tags" VALUES('renminbi','人民币');
INSERT INTO "tags" VALUES('nengyuan','能源');
CREATE INDEX ix_runs_job_started ON runs (job, started_at);
CREATE INDEX ix_subscribers_status ON subscribers (status, id);
CREATE INDEX ix_posts_first_seen ON posts (first_seen);
CREATE INDEX ix_posts_guid ON posts (guid);
CREATE INDEX ix_posts_date ON posts (date);
CREATE INDEX ix_posts_stat ON posts (source_id, "key", size, mtime_ns, withdrawn, content_hash, guid);
CREATE INDEX ix_posts_id_visible ON posts (id, withdrawn, date, guid);
CREATE INDEX ix_posts_changed_at ON posts (changed_at);
CREATE INDEX ix_deliveries_edition_status ON deliveries (edition_id, status, id);
CREATE INDEX ix_deliveries_subscriber ON deliveries (subscriber_id);
CREATE INDEX ix_post_categories_slug ON post_categories (category_slug, post_id);
CREATE INDEX ix_post_tags_slug ON post_tags (tag_slug, post_id);
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('subscribers',6);
COMMIT;
