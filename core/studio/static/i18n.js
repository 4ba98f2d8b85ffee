// The studio's words in Chinese and English; components bring their own titles and summaries.
"use strict";

const I18N = {
  en: {
    studio: "dougong studio", open: "Open", newBrand: "New brand", template: "Template", fileName: "File name",
    slug: "Brand slug", brandName: "Brand name", create: "Create", cancel: "Cancel", brand: "Brand",
    components: "Components in this brand", addComponent: "Add", catalog: "Catalog", filter: "Filter by what it provides",
    named: "named in the blueprint", neededBy: "needed by", remove: "Remove", settings: "Settings",
    problems: "Problems", noProblems: "No problems: `dougong validate` says ok.", yaml: "YAML", diff: "Diff", sdl: "Schema",
    tryIt: "Try it", save: "Save…", saveTitle: "Save these changes?", confirmSave: "Save", saved: "Saved",
    nothingToSave: "Nothing changed since the last save.", default: "default", range: "range",
    durationHelp: "a duration such as 30s, 30m, 24h, 3d or 1h30m", moneyHelp: 'an amount such as "99.00"',
    noSettings: "This component has no settings.", version: "version", depends: "depends on", emits: "emits",
    handles: "handles", provides: "provides", none: "none", readme: "README", added: "Added", cameWith: "came with it",
    because: "because", startSandbox: "Boot a sandbox", sandboxReady: "Sandbox running with demo data:",
    openGraphiql: "open GraphiQL", checking: "checking…", breaking: "breaking", dangerous: "dangerous", safe: "safe",
    noChange: "No change a frontend could see.", againstSaved: "Changes against the saved version",
    newFile: "Not saved yet: no saved version to compare with.", conflict: "Changed on disk", selectHint:
    "Choose a component on the left to edit its settings, or open one from the catalog.",
    kind_integer: "whole number", kind_number: "number", kind_string: "text", kind_boolean: "yes / no",
    kind_enum: "choice", kind_duration: "duration", kind_money: "money", kind_array: "list, comma separated",
    kind_object: "group", fixFirst: "Fix the problems first.", language: "中文",
    openFirst: "Open a blueprint or create a new brand first.",
  },
  zh: {
    studio: "斗拱工作台", open: "打开", newBrand: "新建品牌", template: "模板", fileName: "文件名",
    slug: "品牌标识", brandName: "品牌名称", create: "创建", cancel: "取消", brand: "品牌",
    components: "本品牌的组件", addComponent: "添加", catalog: "组件目录", filter: "按提供的能力筛选",
    named: "写在蓝图中", neededBy: "被依赖于", remove: "移除", settings: "设置",
    problems: "问题", noProblems: "没有问题：`dougong validate` 结果为 ok。", yaml: "YAML", diff: "差异", sdl: "接口",
    tryIt: "试用", save: "保存…", saveTitle: "保存这些修改？", confirmSave: "保存", saved: "已保存",
    nothingToSave: "自上次保存以来没有修改。", default: "默认", range: "范围",
    durationHelp: "时长，如 30s、30m、24h、3d 或 1h30m", moneyHelp: "金额，如 \"99.00\"",
    noSettings: "该组件没有设置项。", version: "版本", depends: "依赖", emits: "发出事件",
    handles: "处理事件", provides: "提供", none: "无", readme: "说明文档", added: "已添加", cameWith: "随之加入",
    because: "原因", startSandbox: "启动沙箱", sandboxReady: "沙箱已启动（含演示数据）：",
    openGraphiql: "打开 GraphiQL", checking: "检查中…", breaking: "破坏性", dangerous: "有风险", safe: "安全",
    noChange: "前端看不到任何变化。", againstSaved: "与已保存版本相比的变化",
    newFile: "尚未保存：没有可比较的已保存版本。", conflict: "文件已在别处被修改", selectHint:
    "在左侧选择一个组件来编辑设置，或在组件目录中查看详情。",
    kind_integer: "整数", kind_number: "数字", kind_string: "文本", kind_boolean: "是 / 否",
    kind_enum: "选项", kind_duration: "时长", kind_money: "金额", kind_array: "列表，用逗号分隔",
    kind_object: "分组", fixFirst: "请先修正问题。", language: "English",
    openFirst: "请先打开一个蓝图或新建品牌。",
  },
};
