"""A deterministic corpus of Jekyll posts shaped like the seed post, for the benchmarks.

Every post looks like ``tests/data/000_d77b2b9e883b6d94.txt``: YAML front
matter with a ``+0800`` date, a pinyin category and a Chinese tag; a body of
Chinese HTML paragraphs (some ``<strong>`` sub-heads), the
``（文章来源：X）`` credit, the bare ``<http://…?infoCode=…>`` autolink and the
``[返回…]｜[返回首页]`` navigation line. The text is drawn from a fixed pool
with ``random.Random(seed)``, so the same (n, categories, seed) always gives
the same bytes: timings from two machines are timings of the same work.

    python bench/corpus.py OUT_DIR -n 10000 [-c 20] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

CST = timezone(timedelta(hours=8))
START = datetime(2019, 1, 1, 8, 0, 0, tzinfo=CST)
SITE_URL = "https://finews.withounder.com"
SHARE_URL = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode="

# slug → display name; the seed's own category comes first.
CATEGORIES: list[tuple[str, str]] = [
    ("wangxinzhongguo", "网信中国"),
    ("caijing", "财经"),
    ("keji", "科技"),
    ("guoji", "国际"),
    ("gupiao", "股票"),
    ("fangchan", "房产"),
    ("hongguan", "宏观"),
    ("jijin", "基金"),
    ("yinhang", "银行"),
    ("baoxian", "保险"),
    ("qihuo", "期货"),
    ("waihui", "外汇"),
    ("huangjin", "黄金"),
    ("chanye", "产业"),
    ("gongsi", "公司"),
    ("zhaiquan", "债券"),
    ("qiche", "汽车"),
    ("nengyuan", "能源"),
    ("xiaofei", "消费"),
    ("nongye", "农业"),
]

MEDIA = ["新华社", "人民日报", "经济日报", "中国证券报", "上海证券报", "证券时报", "第一财经"]

SUBJECTS = [
    "中央网信办", "国家发展改革委", "工业和信息化部", "市场监管总局", "中国人民银行",
    "证监会", "银保监会", "财政部", "商务部", "国家统计局", "上海证券交易所", "深圳证券交易所",
]  # fmt: skip
ACTIONS = [
    "召开促进互联网企业健康持续发展工作座谈会", "发布一季度经济运行数据", "下调贷款市场报价利率",
    "出台支持中小企业纾困的若干措施", "部署推进数字经济高质量发展", "公布上半年外贸进出口情况",
    "召开新闻发布会介绍稳增长政策", "印发关于完善资本市场基础制度的意见",
]  # fmt: skip
REACTIONS = ["引起热烈反响", "释放积极信号", "市场人士解读", "专家认为意义重大", "企业界反响热烈"]
HEADS = [
    "深受鼓舞，增强发展信心", "认清形势，直面机遇挑战", "抢抓机遇，努力做大做强",
    "稳字当头，稳中求进", "政策发力，提振市场预期", "创新驱动，培育新动能",
]  # fmt: skip
SENTENCES = [
    "1月28日下午，有关部门召开工作座谈会，在行业内引起热烈反响。",
    "近日，记者对部分企业负责人进行了访谈。",
    "大家一致认为，此次会议让企业更加清醒地认识发展形势，更加坚定发展信心。",
    "要紧紧把握发展机遇，发挥创新优势，在深化改革中提质增效。",
    "座谈会充分肯定互联网企业日益成为建设网络强国的中坚力量。",
    "在推动我国经济社会发展中发挥了重要作用，为企业坚定发展注入了强大信心和动力。",
    "本次座谈会进一步坚定把握机遇、乘势而上的信心，进一步激发创新突破、提质增效的活力。",
    "从中再次感受到党中央、国务院和各级主管部门对行业发展工作的重视和关心。",
    "这是一份面向当下的温暖和鼓舞，也是一份面向未来的责任和使命。",
    "公司将持续呼应国家与时代需要，坚持科技向善，推进可持续社会价值创新。",
    "在深化改革中提质增效，在规范发展中做优做强。",
    "会议为新时代行业的发展指明了方向，树立了清晰的坐标。",
    "起到了统一思想、坚定信心的重要作用，对数字经济的行稳致远具有重大的现实意义。",
    "将主动对标监管政策，提高安全、合规发展的能力。",
    "要正确看待发展大势、正确看待监管举措、正确看待自身问题。",
    "要充分认识企业仍处于宝贵的历史机遇期、具有广阔的发展空间。",
    "健全法治、完善监管为企业持续健康发展提供了有力保障。",
    "从国内来看，不断做强做优做大我国数字经济的政策导向将持续得到加强。",
    "从国际来看，企业“走出去”、推动国际国内双循环，也存在巨大空间。",
    "我国经济发展环境长期利好，经济保持稳定的增长。",
    "随着互联网与生产生活融合发展的演进，必定会产生新技术、新业态、新模式。",
    "将抓住发展机遇，利用好法治化建设营造的良好发展秩序，不断加大研发投入。",
    "近年来，网络空间日益清朗，营商环境更加公平有序、绿色健康。",
    "规范是为了更健康的发展，合规经营是企业发展的前提。",
    "推出纾困举措，助力中小企业发展；围绕生态目标，带动上下游共同减碳。",
    "广大企业要善于抢抓机遇，勇于改革创新，坚持守法经营，努力做大做强。",
    "在全面建设社会主义现代化国家新征程中实现质量更好、效益更高的发展。",
    "1年期贷款市场报价利率为3.70%，5年期以上为4.60%，分别较上期下降10个基点和5个基点。",
    "市场人士分析，此次下调主要受政策利率下行带动。",
    "叠加前期降准释放的长期资金降低了银行资金成本，银行报价下调具备条件。",
    "多位经济学家表示，当前经济面临需求收缩、供给冲击、预期转弱三重压力。",
    "货币政策需要靠前发力，推动企业综合融资成本稳中有降。",
    "后续仍存在进一步降准降息的可能，但节奏和力度将根据经济运行情况相机抉择。",
    "沪深两市成交额连续第五个交易日突破万亿元，北向资金净流入超过百亿元。",
    "分析人士指出，市场估值处于历史较低水平，中长期配置价值凸显。",
    "一季度国内生产总值同比增长4.8%，比上年四季度加快0.8个百分点。",
    "社会消费品零售总额同比增长3.3%，其中网上零售额增长较快。",
    "规模以上工业增加值同比增长6.5%，高技术制造业增加值增长14.2%。",
    "前两个月货物贸易进出口总值同比增长13.3%，外贸实现良好开局。",
    "新能源汽车产销分别完成45.2万辆和44.5万辆，同比均增长1.4倍。",
    "国际油价延续震荡走势，布伦特原油期货价格一度突破每桶100美元。",
    "黄金价格小幅上涨，避险情绪有所升温。",
    "人民币对美元汇率中间价报6.3461，较前一交易日上调24个基点。",
    "保险业原保险保费收入同比增长，健康险业务保持较快增长。",
    "多家银行下调存款利率，部分期限品种降幅达到15个基点。",
    "房地产市场总体平稳，部分城市因城施策优化调控措施。",
    "基金发行市场回暖，权益类基金发行份额环比明显增加。",
    "国债收益率曲线整体下移，10年期国债收益率下行至2.7%附近。",
    "春耕备耕有序推进，粮食生产开局良好。",
    "企业负责人表示，将聚焦主业，发挥技术优势，并积极开拓全球市场。",
    "依靠产品和服务，与国际大公司开展竞争，获取更大规模的用户和市场。",
    "将加强合规能力建设，坚定发展信心决心，加大科技创新投入。",
    "同时发挥大企业责任担当，服务国家发展大局，以实际行动回报社会。",
    "作为行业头部平台，将继续积极参与国际传播，讲好中国故事。",
]
SPEAKERS = [
    "新华网董事长、总裁刘健", "腾讯公司董事会主席马化腾", "360集团创始人周鸿祎",
    "太极股份总裁肖益", "网宿科技董事长刘成彦", "小米集团总裁王翔", "京东集团总裁徐雷",
    "某券商首席经济学家", "一位银行业分析师", "中国社科院研究员",
]  # fmt: skip


@dataclass(frozen=True)
class Post:
    """One generated post: where it goes and its bytes."""

    name: str  # YYYY-MM-DD-NW….md
    category: str
    date: datetime
    text: str


def category_list(count: int) -> list[tuple[str, str]]:
    if not 1 <= count <= len(CATEGORIES):
        raise ValueError(f"categories must be 1..{len(CATEGORIES)}")
    return CATEGORIES[:count]


def _paragraph(rng: random.Random) -> str:
    k = rng.randint(1, 4)
    text = "".join(rng.choice(SENTENCES) for _ in range(k))
    if rng.random() < 0.3:
        who = rng.choice(SPEAKERS)
        text = f"{who}表示，“{rng.choice(SENTENCES)}{rng.choice(SENTENCES)}”" + text
    return text


def make_post(
    rng: random.Random, date: datetime, cats: list[tuple[str, str]], *, edit: int = 0
) -> Post:
    """One post in the seed's shape; ``edit`` > 0 gives an edited body of the same post."""
    slug, name = rng.choice(cats)
    code = f"NW{date:%Y%m%d}{rng.randrange(10**9):09d}"
    title = f"{rng.choice(SUBJECTS)}{rng.choice(ACTIONS)}{rng.choice(REACTIONS)}"
    paras = [_paragraph(rng)]
    for _ in range(rng.randint(5, 14)):
        if rng.random() < 0.15:
            paras.append(f"<strong>{rng.choice(HEADS)}</strong>")
        else:
            paras.append(_paragraph(rng))
    if edit:
        paras.append(f"（更新{edit}）{rng.choice(SENTENCES)}")
    credit = name if rng.random() < 0.5 else rng.choice(MEDIA)
    host = SITE_URL.split("://", 1)[1]
    body = "<p>" + paras[0] + "</p>\n" + "".join(f" <p>{p}</p>\n" for p in paras[1:])
    body = body.rstrip("\n") + f'<p class="em_media">（文章来源：{credit}）</p>\n\n'
    body += f"<{SHARE_URL}{code}>\n\n"
    body += f"[返回{name}新闻](//{host}/category/{slug}.html)｜[返回首页](//{host}/)"
    front = (
        "---\n"
        "layout: post\n"
        f'title: "{title}"\n'
        f"date: {date:%Y-%m-%d %H:%M:%S} +0800\n"
        f"categories: {slug}\n"
        f"tags: {name}新闻\n"
        "---\n"
    )
    return Post(f"{date:%Y-%m-%d}-{code}.md", slug, date, front + body)


def posts(n: int, categories: int = 20, seed: int = 0) -> Iterator[Post]:
    """The corpus, oldest first: post i is a function of (seed, i) and the posts before it."""
    rng = random.Random(seed)
    cats = category_list(categories)
    date = START
    for _ in range(n):
        date += timedelta(seconds=rng.randint(60, 1800))
        yield make_post(rng, date, cats)


# the site root holds only the posts: feeds.dir may not sit inside a site root
POSTS = "site/_posts"


def schedule_yaml(categories: int = 20, *, posts_dir: str = POSTS) -> str:
    """A config for the corpus: the example site's settings, every category named."""
    lines = [
        "# generated by bench/corpus.py",
        "site:",
        "  title: 金融资讯网",
        f"  url: {SITE_URL}",
        "  language: zh-CN",
        "  timezone: Asia/Shanghai",
        "  permalink: date",
        "  description: 网信、财经、科技、国际、股票、房产与宏观经济要闻",
        "  author: 金融资讯网编辑部",
        "sources:",
        "  - name: bench-posts",
        f"    posts: {posts_dir}",
        "categories:",
        *(f"  {slug}: {name}" for slug, name in category_list(categories)),
        "store:",
        "  url: sqlite:///var/syndicate.db",
        "feeds:",
        "  dir: feeds",
        "",
    ]
    return "\n".join(lines)


def write(out: Path, n: int, categories: int = 20, seed: int = 0) -> Path:
    """Write ``out/site/_posts/`` and ``out/schedule.yaml``; returns the posts folder."""
    posts_dir = out / POSTS
    posts_dir.mkdir(parents=True, exist_ok=True)
    for post in posts(n, categories, seed):
        (posts_dir / post.name).write_text(post.text, encoding="utf-8")
    (out / "schedule.yaml").write_text(schedule_yaml(categories), encoding="utf-8")
    return posts_dir


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("-n", type=int, default=10_000, help="posts (default 10000)")
    ap.add_argument("-c", "--categories", type=int, default=20, help="categories (1..20)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    write(args.out, args.n, args.categories, args.seed)
    print(f"wrote {args.n:,} posts in {args.categories} categories to {args.out / POSTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
