"""Synthetic people for the demo's health-check register.

Names are drawn from common surnames and given-name characters; ID numbers are
built to GB 11643 (region code, birth date, sequence, check character) for
districts of the demo city, so they pass validation but identify nobody.
Phone numbers use the 13x-19x mobile ranges with random subscriber digits.
"""

from __future__ import annotations

import datetime as dt
import random

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国建华志强文杰晓东海燕婷雪梅欣怡子涵浩然宇轩梓萱一诺"
DISTRICTS = ("440104", "440106", "440103", "440105", "440111")
OCCUPATIONS = ("餐饮服务", "食品生产", "公共场所服务", "集中式供水", "药品经营")
RESULTS = ("合格", "合格", "合格", "合格", "不合格")

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_character(first17: str) -> str:
    """Return the GB 11643 check character of the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def synthetic_people(count: int, *, seed: int = 2026) -> list[dict[str, str]]:
    """Return `count` synthetic check-up records, the same for the same seed."""
    rng = random.Random(seed)
    people = []
    for i in range(count):
        born = dt.date(1965, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 38))
        first17 = f"{rng.choice(DISTRICTS)}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
        given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        checked = dt.date(2026, 1, 5) + dt.timedelta(days=rng.randrange(0, 300))
        people.append(
            {
                "编号": f"TJ2026{i + 1:05d}",
                "姓名": rng.choice(SURNAMES) + given,
                "身份证号": first17 + check_character(first17),
                "手机号": f"1{rng.choice('3456789')}{rng.randrange(0, 10**9):09d}",
                "从业类别": rng.choice(OCCUPATIONS),
                "体检日期": checked.isoformat(),
                "体检结论": rng.choice(RESULTS),
            }
        )
    return people
