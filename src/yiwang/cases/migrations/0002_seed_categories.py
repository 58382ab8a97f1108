"""Seed the two-level category taxonomy from the source document's examples and common 12345
practice. Editable afterwards in the admin; owning departments are linked there (or by the
demo), since departments differ from district to district."""

from django.db import migrations

# (code, name, mode, response hours, resolve hours, duplicate radius m, street unit suffix)
TAXONOMY = [
    ("SRHJ", "市容环境", [
        ("SRHJ01", "占道经营", "assigned", 2, 24, 80, "ZF"),
        ("SRHJ02", "乱堆乱放", "fast", 2, 16, 60, "CB"),
        ("SRHJ03", "乱停乱放", "assigned", 2, 24, 60, "ZF"),
        ("SRHJ04", "卫生死角", "fast", 2, 16, 60, "CB"),
        ("SRHJ05", "违规广告", "assigned", 4, 40, 60, "ZF"),
    ]),
    ("LLDW", "流浪动物", [("LLDW01", "流浪犬猫", "assigned", 4, 40, 150, "CB")]),
    ("ZSRM", "噪声扰民", [
        ("ZSRM01", "施工噪声", "assigned", 2, 24, 200, ""),
        ("ZSRM02", "生活噪声", "fast", 2, 16, 50, ""),
        ("ZSRM03", "商业噪声", "assigned", 2, 24, 100, ""),
    ]),
    ("WZDJ", "违章搭建", [("WZDJ01", "违章建筑", "joint", 4, 80, 50, "ZF")]),
    ("GGSS", "公共设施损坏", [
        ("GGSS01", "道路破损", "assigned", 4, 40, 80, ""),
        ("GGSS02", "路灯不亮", "assigned", 4, 40, 80, ""),
        ("GGSS03", "井盖缺失", "fast", 1, 8, 30, ""),
        ("GGSS04", "健身器材损坏", "fast", 4, 40, 30, ""),
    ]),
    ("LLJF", "邻里纠纷", [("LLJF01", "邻里矛盾", "fast", 4, 40, 20, "")]),
    ("YLFW", "养老服务", [
        ("YLFW01", "上门服务需求", "fast", 4, 24, 10, ""),
        ("YLFW02", "养老补贴", "assigned", 8, 80, 10, ""),
    ]),
    ("SCJG", "市场监管", [
        ("SCJG01", "无照经营", "assigned", 4, 40, 50, ""),
        ("SCJG02", "食品安全", "assigned", 2, 40, 50, ""),
        ("SCJG03", "价格投诉", "assigned", 4, 40, 50, ""),
    ]),
    ("WYGL", "物业管理", [
        ("WYGL01", "物业服务", "assigned", 4, 80, 50, ""),
        ("WYGL02", "电梯故障", "fast", 1, 16, 30, ""),
    ]),
    ("AQYH", "安全隐患", [
        ("AQYH01", "消防通道堵塞", "fast", 1, 8, 50, "ZF"),
        ("AQYH02", "燃气隐患", "top", 1, 8, 50, ""),
    ]),
    ("HJWR", "环境污染", [
        ("HJWR01", "油烟扰民", "assigned", 4, 40, 50, ""),
        ("HJWR02", "垃圾分类", "fast", 4, 24, 60, "CB"),
    ]),
]  # fmt: skip

TEMPLATES = {
    "SRHJ01": "接到市民反映的问题后,{unit}高度重视,立即派执法队员到现场查看,对占道经营商户进行劝导整改,并将加大重点时段巡查力度,实行常态化管理。",
    "SRHJ04": "接到市民反映的问题后,{unit}立即派人到现场查看,已安排环卫人员清理,后续将督促环卫公司加强日常保洁。",
    "LLDW01": "接到市民反映的问题后,{unit}多次到现场查看,已联系流浪动物救助单位收容,社区将派志愿者不定期巡逻,倡导文明养犬。",
}


def seed(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    ReplyTemplate = apps.get_model("cases", "ReplyTemplate")
    order = 0
    for code, name, children in TAXONOMY:
        order += 1
        parent, _ = Category.objects.get_or_create(
            code=code, defaults={"name": name, "order": order}
        )
        for ccode, cname, mode, response, resolve, radius, suffix in children:
            order += 1
            child, _ = Category.objects.get_or_create(
                code=ccode,
                defaults={
                    "parent": parent,
                    "name": cname,
                    "default_mode": mode,
                    "response_hours": response,
                    "resolve_hours": resolve,
                    "duplicate_radius_m": radius,
                    "street_unit_suffix": suffix,
                    "order": order,
                },
            )
            if ccode in TEMPLATES:
                ReplyTemplate.objects.get_or_create(
                    category=child, title=f"{cname}处理答复", defaults={"text": TEMPLATES[ccode]}
                )


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
